package dev.meridian.health;

import dev.meridian.balancer.NanoClock;
import java.time.Duration;

/** A clock tests move by hand. */
final class FakeClock implements NanoClock {
  private volatile long now = 1_000_000_000L;

  @Override
  public long nanoTime() {
    return now;
  }

  void advance(Duration d) {
    now += d.toNanos();
  }
}
