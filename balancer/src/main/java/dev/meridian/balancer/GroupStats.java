package dev.meridian.balancer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link BackendStats} of every backend of one group, shared by the group's selectors and fed by
 * the proxy. Immutable membership: a group change builds a new instance (stats of backends that stay
 * can be carried over with {@link #carryOver}).
 */
public final class GroupStats {
  /** Default EWMA decay: 10 seconds. */
  public static final long DEFAULT_DECAY_NANOS = 10_000_000_000L;

  /** The least latency a 5xx answer counts as ({@link #failureLatency}). */
  private static final long MIN_FAILURE_LATENCY_NANOS = 1_000_000L;

  /** The most a 5xx answer counts as, unless it took longer itself ({@link #failureLatency}). */
  static final long MAX_FAILURE_LATENCY_SECONDS = 10;
  private static final long MAX_FAILURE_LATENCY_NANOS = MAX_FAILURE_LATENCY_SECONDS * 1_000_000_000L;

  private final Map<Backend, BackendStats> byBackend = new HashMap<>();
  private final NanoClock clock;

  /** Creates stats for the backends with the given clock and decay. */
  public GroupStats(List<Backend> backends, NanoClock clock, long decayNanos) {
    this.clock = clock;
    for (Backend b : backends) {
      byBackend.put(b, new BackendStats(b, clock, decayNanos));
    }
  }

  /** Creates stats on the system clock with the default decay. */
  public GroupStats(List<Backend> backends) {
    this(backends, NanoClock.SYSTEM, DEFAULT_DECAY_NANOS);
  }

  /** The stats of a backend of the group, or null for a stranger. */
  public BackendStats of(Backend backend) {
    return byBackend.get(backend);
  }

  /** The clock the stats run on. */
  public NanoClock clock() {
    return clock;
  }

  /**
   * The latency a backend's 5xx answer counts as in its EWMA: twice the slowest cost of the group's
   * other backends now (at least a millisecond, at most {@value #MAX_FAILURE_LATENCY_SECONDS} s), or the
   * answer's own latency when that is more. A backend that fails every request at once would otherwise
   * look the fastest and draw all the traffic (a black hole); counted so, it draws little until its cost
   * decays, then one request tells again, and no backend is taken out. The failing backend's own cost
   * is left out and the whole is capped, so failures do not feed on themselves (a URL that fails on
   * every backend raises each one to a bounded level, not without end).
   *
   * @param failing  the backend that answered 5xx
   * @param rttNanos the time from sending the request to the 5xx's headers
   */
  public long failureLatency(Backend failing, long rttNanos) {
    double slowest = 0;
    for (Map.Entry<Backend, BackendStats> each : byBackend.entrySet()) {
      if (!each.getKey().equals(failing)) {
        slowest = Math.max(slowest, each.getValue().costNanos());
      }
    }
    double penalty = Math.min(MAX_FAILURE_LATENCY_NANOS, Math.max(2 * slowest, MIN_FAILURE_LATENCY_NANOS));
    return Math.max(rttNanos, (long) penalty);
  }

  /** Returns stats where backends present in {@code previous} keep their in-flight count and EWMA. */
  public GroupStats carryOver(GroupStats previous) {
    previous.byBackend.forEach((backend, stats) -> {
      if (byBackend.containsKey(backend)) {
        byBackend.put(backend, stats);
      }
    });
    return this;
  }
}
