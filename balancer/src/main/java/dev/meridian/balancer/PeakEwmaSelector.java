package dev.meridian.balancer;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Picks the backend with the lower peak-EWMA load of two candidates: strategy {@code peak-ewma}.
 *
 * <p>Load is {@code cost x (inFlight + 1)}, the cost being the backend's peak-EWMA latency from
 * {@link BackendStats} (decay 10 s by default, set on {@link GroupStats}). The proxy feeds the stats:
 * {@code requestStarted()} once it sends to the chosen backend, {@code observe(rtt)} when response
 * headers arrive, {@code requestFinished()} at the end.
 *
 * <p>Power of two choices with memory (Mitzenmacher, Prabhakar and Shah): one candidate is drawn at
 * random, the other is the previous pick's winner. Plain P2C draws both at random, which with three
 * backends leaves the fastest out of a third of all picks; remembering the winner keeps the best
 * backend in every comparison, while the in-flight factor and the decay of idle costs still spread the
 * load. Ties go to the random candidate.
 *
 * <p>A backend with no latency sample yet has load 0 while nothing is in flight to it (it is probed
 * the first time it is drawn) and is not picked while it has a probe in flight and any sampled or
 * unprobed backend is usable (so at most one probe is in flight; two event loops drawing it in the same
 * instant may each send one). Unavailable and excluded backends are never picked.
 *
 * <p>Thread-safe and allocation-free per pick. Membership is fixed: a group change builds a new selector.
 */
public final class PeakEwmaSelector implements BackendSelector {
  /** Load of an unsampled backend whose probe is still in flight: above any real latency load. */
  static final double PROBE_PENDING = 1e15;

  private final Backend[] backends;
  private final BackendStats[] stats;
  private final HealthView health;
  private final RandomGenerator random;
  /** Index of the previous winner (-1 before the first pick); races between loops are harmless. */
  private volatile int remembered = -1;

  /**
   * Creates a selector.
   *
   * @param backends the backends to pick from, each known to {@code stats}
   * @param health   consulted on every pick
   * @param stats    latency and in-flight per backend, fed by the proxy
   * @param random   source of the random candidate; null for {@link java.util.concurrent.ThreadLocalRandom}
   *                 (the default). An injected generator must be thread-safe if picks run concurrently.
   */
  public PeakEwmaSelector(List<Backend> backends, HealthView health, GroupStats stats, RandomGenerator random) {
    this.backends = backends.toArray(new Backend[0]);
    this.stats = Candidates.statsOf(this.backends, stats);
    this.health = health;
    this.random = random;
  }

  /** Creates a selector drawing from {@link java.util.concurrent.ThreadLocalRandom}. */
  public PeakEwmaSelector(List<Backend> backends, HealthView health, GroupStats stats) {
    this(backends, health, stats, null);
  }

  @Override
  public Backend select(SelectionContext context) {
    if (backends.length == 0) {
      return null;
    }
    int first = remembered;
    if (first < 0 || !Candidates.usable(backends[first], health, context)) {
      first = Candidates.randomUsable(backends, health, context, random, -1);
      if (first < 0) {
        return null;
      }
    }
    int winner = first;
    int challenger = Candidates.randomUsable(backends, health, context, random, first);
    if (challenger >= 0) {
      double firstLoad = load(first);
      double challengerLoad = load(challenger);
      winner = challengerLoad <= firstLoad ? challenger : first;
      if (Math.min(firstLoad, challengerLoad) >= PROBE_PENDING) {
        winner = notProbing(context, winner);
      }
    }
    if (winner != remembered) {
      remembered = winner;
    }
    return backends[winner];
  }

  /** The load of a backend: {@code cost x (inFlight + 1)}, with the probing rule for unsampled ones. */
  private double load(int i) {
    BackendStats s = stats[i];
    int inFlight = Math.max(0, s.inFlight());
    if (!s.hasSample()) {
      return inFlight == 0 ? 0 : PROBE_PENDING + inFlight;
    }
    return s.costNanos() * (inFlight + 1);
  }

  /** Both candidates wait on a probe: any usable backend that does not, else the given fallback. */
  private int notProbing(SelectionContext context, int fallback) {
    int n = backends.length;
    int start = Candidates.nextInt(random, n);
    for (int k = 0; k < n; k++) {
      int i = start + k < n ? start + k : start + k - n;
      if (Candidates.usable(backends[i], health, context) && load(i) < PROBE_PENDING) {
        return i;
      }
    }
    return fallback;
  }
}
