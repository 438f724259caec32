package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The per-address token bucket, on a clock driven by hand. */
class ClientRateLimiterTest {
  private final ManualClock clock = new ManualClock();

  @Test
  void aFullBucketLetsTheBurstThroughThenRefillsAtTheRate() {
    ClientRateLimiter limiter = new ClientRateLimiter(2, 3, clock);
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.acquire("10.0.0.1")).as("request " + i).isZero();
    }
    assertThat(limiter.acquire("10.0.0.1")).as("empty: half a second to the next token").isEqualTo(500_000_000L);
    clock.advance(Duration.ofMillis(499));
    assertThat(limiter.acquire("10.0.0.1")).isEqualTo(1_000_000L);
    clock.advance(Duration.ofMillis(1));
    assertThat(limiter.acquire("10.0.0.1")).isZero();
    assertThat(limiter.acquire("10.0.0.1")).isPositive();
  }

  @Test
  void aBucketNeverHoldsMoreThanTheBurst() {
    ClientRateLimiter limiter = new ClientRateLimiter(10, 2, clock);
    limiter.acquire("a");
    clock.advance(Duration.ofHours(1));
    assertThat(limiter.acquire("a")).isZero();
    assertThat(limiter.acquire("a")).isZero();
    assertThat(limiter.acquire("a")).isEqualTo(100_000_000L);
  }

  @Test
  void addressesHaveBucketsOfTheirOwn() {
    ClientRateLimiter limiter = new ClientRateLimiter(1, 1, clock);
    assertThat(limiter.acquire("a")).isZero();
    assertThat(limiter.acquire("a")).isPositive();
    assertThat(limiter.acquire("b")).isZero();
  }

  @Test
  void aRateOfZeroIsNoLimiter() {
    assertThat(ClientRateLimiter.of(0, 0, clock)).isNull();
    assertThat(ClientRateLimiter.of(0.5, 1, clock)).isNotNull();
  }
}
