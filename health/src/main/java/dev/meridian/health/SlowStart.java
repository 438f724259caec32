package dev.meridian.health;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.HealthView;
import dev.meridian.balancer.NanoClock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * A {@link HealthView} for one group that ramps a backend's share up after it becomes available, so a
 * cold JVM behind it is not flooded: for {@code duration} after the transition, the backend is
 * reported available with probability {@code elapsed / duration} per pick, so whatever strategy picks
 * sees it in a linearly growing share of picks. Backends available from the start do not ramp.
 *
 * <p>Transitions come from the {@link HealthRegistry} (subscribe with {@link #attachTo}, which covers
 * returns from active checks, outlier ejections and operator drains) or from {@link
 * #becameAvailable(Backend)}. A ramping backend is always reported available when no other backend
 * of its group is available and done ramping: a slow start never turns "one backend" into "no backend".
 *
 * <p>Thread-safe and cheap when nothing ramps (one map-size check per pick). Duration 0 means off: the
 * delegate is answered unchanged (use {@link #wrap} to skip the decorator entirely).
 */
public final class SlowStart implements HealthView, HealthRegistry.Listener {
  private final BackendGroup group;
  private final HealthView delegate;
  private final long durationNanos;
  private final NanoClock clock;
  private final DoubleSupplier random;
  private final ConcurrentHashMap<String, Long> rampStart = new ConcurrentHashMap<>();

  /**
   * Creates a slow start over a view.
   *
   * @param group    the group whose backends ramp
   * @param delegate the view that says whether a backend is available at all (the registry or its
   *                 read view)
   * @param duration ramp length; 0 = off (default)
   * @param clock    the clock ramps are timed on
   * @param random   uniform numbers in [0, 1) for the per-pick draw
   */
  public SlowStart(BackendGroup group, HealthView delegate, Duration duration, NanoClock clock,
      DoubleSupplier random) {
    if (duration.isNegative()) {
      throw new IllegalArgumentException("slow-start: " + duration + " (expected: >= 0)");
    }
    this.group = group;
    this.delegate = delegate;
    this.durationNanos = duration.toNanos();
    this.clock = clock;
    this.random = random;
  }

  /** Creates a slow start on the system clock and a thread-local random source. */
  public SlowStart(BackendGroup group, HealthView delegate, Duration duration) {
    this(group, delegate, duration, NanoClock.SYSTEM, () -> ThreadLocalRandom.current().nextDouble());
  }

  /**
   * The view to give the group's selectors: {@code delegate} itself when {@code duration} is 0,
   * else a slow start subscribed to the registry's transitions (remove it with {@link
   * HealthRegistry#removeListener} when the group is replaced).
   */
  public static HealthView wrap(BackendGroup group, HealthRegistry registry, HealthView delegate,
      Duration duration) {
    if (duration.isZero()) {
      return delegate;
    }
    SlowStart slowStart = new SlowStart(group, delegate, duration);
    slowStart.attachTo(registry);
    return slowStart;
  }

  /** Subscribes to the registry's availability changes; returns this. */
  public SlowStart attachTo(HealthRegistry registry) {
    registry.addListener(this);
    return this;
  }

  /** Starts the ramp of a backend of the group that just became available. */
  public void becameAvailable(Backend backend) {
    startRamp(backend.id());
  }

  @Override
  public void availabilityChanged(String backendId, boolean available) {
    if (available) {
      startRamp(backendId);
    } else {
      rampStart.remove(backendId);
    }
  }

  /** Sessions pinned to a backend reach it whatever its ramp: the ramp spreads new traffic only. */
  @Override
  public boolean isAvailableToPinned(Backend backend) {
    return delegate.isAvailableToPinned(backend);
  }

  @Override
  public boolean isAvailable(Backend backend) {
    if (!delegate.isAvailable(backend)) {
      return false;
    }
    if (rampStart.isEmpty()) {
      return true;
    }
    Long start = rampStart.get(backend.id());
    if (start == null) {
      return true;
    }
    long elapsed = clock.nanoTime() - start;
    if (elapsed >= durationNanos) {
      rampStart.remove(backend.id(), start);
      return true;
    }
    return random.getAsDouble() * durationNanos < elapsed || isOnlyAvailable(backend);
  }

  /** Whether the backend is still ramping up (for the admin API). */
  public boolean isRamping(Backend backend) {
    Long start = rampStart.get(backend.id());
    return start != null && clock.nanoTime() - start < durationNanos;
  }

  private void startRamp(String backendId) {
    if (durationNanos > 0 && group.find(backendId) != null) {
      rampStart.put(backendId, clock.nanoTime());
    }
  }

  private boolean isOnlyAvailable(Backend backend) {
    for (Backend other : group.backends()) {
      if (!other.equals(backend) && delegate.isAvailable(other) && !rampStart.containsKey(other.id())) {
        return false;
      }
    }
    return true;
  }
}
