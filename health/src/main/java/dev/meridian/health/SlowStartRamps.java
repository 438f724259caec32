package dev.meridian.health;

import dev.meridian.balancer.NanoClock;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each ramping backend of one group became available, for its {@link SlowStart}: kept for the
 * group's life, across the rebuilds of its selectors (reloads, discovery updates), so a ramp under way
 * goes on and a backend a rebuild adds ramps too. Told of returns by the group's
 * {@link HealthRegistry} (attach it once, with {@link HealthRegistry#addListener}); the selectors'
 * {@link SlowStart} views read it.
 *
 * <p>Thread-safe. With a duration of 0 (off) it records nothing.
 */
public final class SlowStartRamps implements HealthRegistry.Listener {
  private final NanoClock clock;
  private final ConcurrentHashMap<String, Long> starts = new ConcurrentHashMap<>();
  private volatile long durationNanos;

  /** Creates the ramps of a group, timed on {@code clock}, with slow start off until {@link #duration} sets it. */
  public SlowStartRamps(NanoClock clock) {
    this.clock = clock;
  }

  /** Sets the ramp length (the group's {@code slow-start}); 0 turns it off and forgets every ramp. */
  public void duration(Duration duration) {
    if (duration.isNegative()) {
      throw new IllegalArgumentException("slow-start: " + duration + " (expected: >= 0)");
    }
    durationNanos = duration.toNanos();
    if (durationNanos == 0) {
      starts.clear();
    }
  }

  /** The ramp length in nanoseconds; 0 when off. */
  long durationNanos() {
    return durationNanos;
  }

  NanoClock clock() {
    return clock;
  }

  @Override
  public void availabilityChanged(String backendId, boolean available) {
    if (available) {
      start(backendId);
    } else {
      starts.remove(backendId);
    }
  }

  /** Starts the ramp of a backend that became available, or that a rebuild added to the group. */
  public void start(String backendId) {
    if (durationNanos > 0) {
      starts.put(backendId, clock.nanoTime());
    }
  }

  /** Forgets the ramps of backends no longer in the group. */
  public void retainOnly(Collection<String> backendIds) {
    starts.keySet().retainAll(backendIds);
  }

  boolean isEmpty() {
    return starts.isEmpty();
  }

  /** When the backend's ramp started (nanoTime), or null when it does not ramp. */
  Long startOf(String backendId) {
    return starts.get(backendId);
  }

  /** Ends a ramp that ran its course (unless it was started again meanwhile). */
  void finished(String backendId, long start) {
    starts.remove(backendId, start);
  }

  boolean contains(String backendId) {
    return starts.containsKey(backendId);
  }
}
