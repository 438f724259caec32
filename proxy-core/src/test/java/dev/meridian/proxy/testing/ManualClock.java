package dev.meridian.proxy.testing;

import dev.meridian.balancer.NanoClock;
import java.time.Duration;

/**
 * A monotonic clock a test moves by hand, given to {@code MeridianInstance} so that ejection times,
 * EWMA decay and retry budgets are asserted exactly rather than as wall-clock ranges. Thread-safe.
 */
public final class ManualClock implements NanoClock {
  private volatile long now = 1_000_000_000L;

  @Override
  public long nanoTime() {
    return now;
  }

  /** Moves the clock forward. */
  public synchronized void advance(Duration by) {
    now += by.toNanos();
  }
}
