package dev.meridian.balancer;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Picks the less loaded of two random backends by requests in flight (power of two choices):
 * strategy {@code least-request}.
 *
 * <p>Load is {@code (inFlight + 1) / weight}, so with equal weights the backend with fewer requests in
 * flight wins; ties go to the first candidate drawn (both are random). In-flight counts come from
 * {@link BackendStats}, which the proxy updates as requests start and finish. Unavailable and excluded
 * backends are never picked.
 *
 * <p>Thread-safe and allocation-free per pick. Membership is fixed: a group change builds a new selector.
 */
public final class LeastRequestSelector implements BackendSelector {
  private final Backend[] backends;
  private final BackendStats[] stats;
  private final HealthView health;
  private final RandomGenerator random;

  /**
   * Creates a selector.
   *
   * @param backends the backends to pick from, each known to {@code stats}
   * @param health   consulted on every pick
   * @param stats    in-flight counts per backend, fed by the proxy
   * @param random   source of the two candidates; null for {@link java.util.concurrent.ThreadLocalRandom}
   *                 (the default). An injected generator must be thread-safe if picks run concurrently.
   */
  public LeastRequestSelector(List<Backend> backends, HealthView health, GroupStats stats, RandomGenerator random) {
    this.backends = backends.toArray(new Backend[0]);
    this.stats = Candidates.statsOf(this.backends, stats);
    this.health = health;
    this.random = random;
  }

  /** Creates a selector drawing from {@link java.util.concurrent.ThreadLocalRandom}. */
  public LeastRequestSelector(List<Backend> backends, HealthView health, GroupStats stats) {
    this(backends, health, stats, null);
  }

  @Override
  public Backend select(SelectionContext context) {
    if (backends.length == 0) {
      return null;
    }
    int a = Candidates.randomUsable(backends, health, context, random, -1);
    if (a < 0) {
      return null;
    }
    int b = Candidates.randomUsable(backends, health, context, random, a);
    if (b < 0) {
      return backends[a];
    }
    // (inA + 1) / wA <= (inB + 1) / wB, cross-multiplied to stay in integers.
    long loadA = (long) (Math.max(0, stats[a].inFlight()) + 1) * backends[b].weight();
    long loadB = (long) (Math.max(0, stats[b].inFlight()) + 1) * backends[a].weight();
    return loadA <= loadB ? backends[a] : backends[b];
  }
}
