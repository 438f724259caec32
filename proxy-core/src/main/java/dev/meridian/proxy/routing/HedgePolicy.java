package dev.meridian.proxy.routing;

import java.time.Duration;

/**
 * A route's hedged requests ({@code routes[].hedge}): when the backend has sent no response headers
 * within a delay, an idempotent request is sent a second time to another backend, and the first
 * answer wins. Read from the configuration by the config package.
 *
 * @param after      the fixed delay, or null when the delay follows the route's latency percentile
 * @param percentile the latency percentile (0-100 exclusive) the delay follows, when {@code after} is null
 * @param max        hedges sent for one request at most (1-3; default 1)
 * @param to         where a hedge goes
 */
public record HedgePolicy(Duration after, double percentile, int max, Target to) {

  /** The most hedges one request may make: each one is a whole extra request on a backend. */
  public static final int MAX_HEDGES = 3;

  /** Checks the delay and the count. */
  public HedgePolicy {
    if ((after == null) == (percentile <= 0 || percentile >= 100)) {
      throw new IllegalArgumentException("hedge: exactly one of a delay or a percentile (0-100)");
    }
    if (max < 1 || max > MAX_HEDGES) {
      throw new IllegalArgumentException("hedge.max: " + max + " (expected: 1-" + MAX_HEDGES + ")");
    }
  }

  /** Where a hedge goes, relative to the backend the request went to first. */
  public enum Target {
    /** A backend in another region (the next one along the request's failover order). */
    NEXT_REGION,
    /** Another backend of the same region. */
    SAME_REGION
  }

  /** The delay as written: {@code 50ms} or {@code p95}. */
  @Override
  public String toString() {
    return after != null ? after.toMillis() + "ms" : "p" + (percentile == Math.rint(percentile)
        ? String.valueOf((long) percentile) : String.valueOf(percentile));
  }
}
