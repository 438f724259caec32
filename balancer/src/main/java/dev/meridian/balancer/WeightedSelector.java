package dev.meridian.balancer;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Picks backends in proportion to their weights, interleaved smoothly: strategy {@code weighted}.
 *
 * <p>The order is nginx's smooth weighted round robin (each turn every backend's current value grows
 * by its weight, the largest is picked and lowered by the sum of weights). Weights 5, 1, 1 give
 * {@code a a b a c a a}: exact shares over every cycle of {@code sum(weights)} picks, with no backend
 * receiving its whole share in a burst. The cycle is computed once, when the selector is built (weights
 * are first divided by their greatest common divisor; a cycle longer than {@value #MAX_CYCLE} is scaled
 * down, keeping shares to within one turn per backend), so a pick is one atomic increment.
 *
 * <p>A turn that falls on an unavailable or excluded backend goes to the owner of another turn of the
 * cycle chosen by hashing the position, so its share is spread over the usable backends in proportion
 * to their weights (on average; exact again once all are back).
 *
 * <p>Thread-safe and allocation-free per pick. Membership and weights are fixed: a change builds a new
 * selector.
 */
public final class WeightedSelector implements BackendSelector {
  /** Longest precomputed cycle (entries); longer cycles are scaled down. */
  static final int MAX_CYCLE = 1 << 16;
  /** Re-drawn turns tried for an unusable turn before scanning the backends. */
  private static final int REDRAWS = 8;

  private final Backend[] backends;
  private final int[] cycle;
  private final HealthView health;
  private final AtomicLong next = new AtomicLong();

  /** Creates a selector over the backends' {@link Backend#weight() weights}, consulting health on every pick. */
  public WeightedSelector(List<Backend> backends, HealthView health) {
    this.backends = backends.toArray(new Backend[0]);
    this.cycle = smoothCycle(reducedWeights(this.backends));
    this.health = health;
  }

  @Override
  public Backend select(SelectionContext context) {
    int length = cycle.length;
    if (length == 0) {
      return null;
    }
    long position = next.getAndIncrement();
    Backend candidate = backends[cycle[(int) Long.remainderUnsigned(position, length)]];
    if (Candidates.usable(candidate, health, context)) {
      return candidate;
    }
    for (int r = 0; r < REDRAWS; r++) {
      candidate = backends[cycle[(int) Long.remainderUnsigned(Hash64.derive(position, r), length)]];
      if (Candidates.usable(candidate, health, context)) {
        return candidate;
      }
    }
    int n = backends.length;
    int start = (int) Long.remainderUnsigned(position, n);
    for (int k = 0; k < n; k++) {
      candidate = backends[(start + k) % n];
      if (Candidates.usable(candidate, health, context)) {
        return candidate;
      }
    }
    return null;
  }

  /** The order of one cycle as backend indexes (for tests and the admin API). */
  int[] cycle() {
    return cycle.clone();
  }

  /** Weights divided by their gcd, then scaled down if their sum exceeds {@link #MAX_CYCLE}. */
  private static int[] reducedWeights(Backend[] backends) {
    int[] weights = new int[backends.length];
    int gcd = 0;
    long sum = 0;
    for (int i = 0; i < backends.length; i++) {
      weights[i] = backends[i].weight();
      gcd = gcd(gcd, weights[i]);
      sum += weights[i];
    }
    if (gcd > 1) {
      sum /= gcd;
      for (int i = 0; i < weights.length; i++) {
        weights[i] /= gcd;
      }
    }
    if (sum > MAX_CYCLE) {
      double scale = (double) MAX_CYCLE / sum;
      for (int i = 0; i < weights.length; i++) {
        weights[i] = Math.max(1, (int) (weights[i] * scale));
      }
    }
    return weights;
  }

  /** nginx's smooth weighted round robin, run for one full cycle. */
  private static int[] smoothCycle(int[] weights) {
    int total = 0;
    for (int w : weights) {
      total += w;
    }
    int[] order = new int[total];
    long[] current = new long[weights.length];
    for (int turn = 0; turn < total; turn++) {
      int best = -1;
      for (int i = 0; i < weights.length; i++) {
        current[i] += weights[i];
        if (best < 0 || current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= total;
      order[turn] = best;
    }
    return order;
  }

  private static int gcd(int a, int b) {
    while (b != 0) {
      int t = a % b;
      a = b;
      b = t;
    }
    return a;
  }
}
