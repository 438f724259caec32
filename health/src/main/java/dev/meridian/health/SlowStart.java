package dev.meridian.health;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.HealthView;
import dev.meridian.balancer.NanoClock;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * A {@link HealthView} for one group that ramps a backend's share up after it becomes available, so a
 * cold JVM behind it is not flooded: for {@code duration} after the transition, the backend is
 * reported available with probability {@code elapsed / duration} per pick, so whatever strategy picks
 * sees it in a linearly growing share of picks. Backends available from the start do not ramp; one
 * that a reload or a discovery update adds to the group does.
 *
 * <p>When each backend's ramp started is kept in {@link SlowStartRamps}, one per group for its life,
 * which the {@link HealthRegistry} tells of returns from active checks, outlier ejections and
 * operator drains; a view is made per rebuild of the group's selectors and reads them. A ramping
 * backend is always reported available when no other backend of its group is available and done
 * ramping: a slow start never turns "one backend" into "no backend".
 *
 * <p>Thread-safe and cheap when nothing ramps (one map-size check per pick). Duration 0 means off: the
 * delegate is answered unchanged (use {@link #wrap} to skip the decorator entirely).
 */
public final class SlowStart implements HealthView {
  private final BackendGroup group;
  private final HealthView delegate;
  private final SlowStartRamps ramps;
  private final DoubleSupplier random;

  /**
   * Creates a slow start over a view, reading the group's ramps.
   *
   * @param group    the group whose backends ramp
   * @param delegate the view that says whether a backend is available at all (the registry or its
   *                 read view)
   * @param ramps    when each of the group's backends started ramping, and for how long ramps last
   * @param random   uniform numbers in [0, 1) for the per-pick draw
   */
  public SlowStart(BackendGroup group, HealthView delegate, SlowStartRamps ramps, DoubleSupplier random) {
    this.group = group;
    this.delegate = delegate;
    this.ramps = ramps;
    this.random = random;
  }

  /**
   * Creates a slow start with ramps of its own (attach them with {@link #attachTo}).
   *
   * @param duration ramp length; 0 = off
   * @param clock    the clock ramps are timed on
   */
  public SlowStart(BackendGroup group, HealthView delegate, Duration duration, NanoClock clock,
      DoubleSupplier random) {
    this(group, delegate, rampsOf(duration, clock), random);
  }

  private static SlowStartRamps rampsOf(Duration duration, NanoClock clock) {
    SlowStartRamps ramps = new SlowStartRamps(clock);
    ramps.duration(duration);
    return ramps;
  }

  /**
   * The view to give the group's selectors: {@code delegate} itself while the ramps' duration is 0,
   * else a slow start over it. Nothing is subscribed: the ramps are, once, for the group's life.
   */
  public static HealthView wrap(BackendGroup group, HealthView delegate, SlowStartRamps ramps) {
    if (ramps.durationNanos() == 0) {
      return delegate;
    }
    return new SlowStart(group, delegate, ramps, () -> ThreadLocalRandom.current().nextDouble());
  }

  /** Subscribes this view's ramps to the registry's availability changes; returns this. */
  public SlowStart attachTo(HealthRegistry registry) {
    registry.addListener(ramps);
    return this;
  }

  /** Starts the ramp of a backend of the group that just became available. */
  public void becameAvailable(Backend backend) {
    if (group.find(backend.id()) != null) {
      ramps.start(backend.id());
    }
  }

  /** Sessions pinned to a backend reach it whatever its ramp: the ramp spreads new traffic only. */
  @Override
  public boolean isAvailableToPinned(Backend backend) {
    return delegate.isAvailableToPinned(backend);
  }

  @Override
  public boolean mayServeInPanic(Backend backend) {
    return delegate.mayServeInPanic(backend);
  }

  @Override
  public boolean isAvailable(Backend backend) {
    if (!delegate.isAvailable(backend)) {
      return false;
    }
    if (ramps.isEmpty()) {
      return true;
    }
    Long start = ramps.startOf(backend.id());
    if (start == null) {
      return true;
    }
    long durationNanos = ramps.durationNanos();
    long elapsed = ramps.clock().nanoTime() - start;
    if (elapsed >= durationNanos) {
      ramps.finished(backend.id(), start);
      return true;
    }
    return random.getAsDouble() * durationNanos < elapsed || isOnlyAvailable(backend);
  }

  /** Whether the backend is still ramping up (for the admin API). */
  public boolean isRamping(Backend backend) {
    Long start = ramps.startOf(backend.id());
    return start != null && ramps.clock().nanoTime() - start < ramps.durationNanos();
  }

  private boolean isOnlyAvailable(Backend backend) {
    for (Backend other : group.backends()) {
      if (!other.equals(backend) && delegate.isAvailable(other) && !ramps.contains(other.id())) {
        return false;
      }
    }
    return true;
  }
}
