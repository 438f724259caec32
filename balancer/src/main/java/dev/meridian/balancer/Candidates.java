package dev.meridian.balancer;

import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/** Draws random usable backends for the power-of-two-choices strategies, without allocating. */
final class Candidates {
  /** Random draws before falling back to a scan (keeps picks O(1) while most backends are usable). */
  private static final int RANDOM_TRIES = 3;

  private Candidates() {}

  /** Whether the backend may be picked for this request: available and not excluded by a retry. */
  static boolean usable(Backend backend, HealthView health, SelectionContext context) {
    return health.isAvailable(backend) && !context.isExcluded(backend);
  }

  /** A uniform index in {@code [0, bound)}, from the generator or, when it is null, ThreadLocalRandom. */
  static int nextInt(RandomGenerator random, int bound) {
    return random == null ? ThreadLocalRandom.current().nextInt(bound) : random.nextInt(bound);
  }

  /**
   * The index of a random usable backend other than {@code avoid} (-1 for none), or -1 when there is no
   * such backend. A few random draws first; then a scan from a random start, so a mostly-down group
   * still finds its last usable backends.
   */
  static int randomUsable(Backend[] backends, HealthView health, SelectionContext context,
      RandomGenerator random, int avoid) {
    int n = backends.length;
    for (int t = 0; t < RANDOM_TRIES; t++) {
      int i = nextInt(random, n);
      if (i != avoid && usable(backends[i], health, context)) {
        return i;
      }
    }
    int start = nextInt(random, n);
    for (int k = 0; k < n; k++) {
      int i = start + k < n ? start + k : start + k - n;
      if (i != avoid && usable(backends[i], health, context)) {
        return i;
      }
    }
    return -1;
  }

  /** The stats of each backend, in the same order; refuses backends the stats do not know. */
  static BackendStats[] statsOf(Backend[] backends, GroupStats stats) {
    BackendStats[] out = new BackendStats[backends.length];
    for (int i = 0; i < backends.length; i++) {
      out[i] = stats.of(backends[i]);
      if (out[i] == null) {
        throw new IllegalArgumentException(
            "backend '" + backends[i].id() + "' has no stats (expected: GroupStats built over the same backends)");
      }
    }
    return out;
  }
}
