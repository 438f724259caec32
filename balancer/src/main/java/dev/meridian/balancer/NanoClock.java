package dev.meridian.balancer;

/**
 * A monotonic clock in nanoseconds, injected into everything time-dependent (EWMA decay, read-your-
 * writes windows, hysteresis) so tests drive time exactly.
 */
@FunctionalInterface
public interface NanoClock {

  /** The system's monotonic clock. */
  NanoClock SYSTEM = System::nanoTime;

  /** The current time in nanoseconds; only differences are meaningful. */
  long nanoTime();
}
