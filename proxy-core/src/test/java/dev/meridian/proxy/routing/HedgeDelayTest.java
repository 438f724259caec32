package dev.meridian.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meridian.proxy.testing.ManualClock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The hedge delay on an injected clock: a fixed delay, and a percentile over the last ten seconds. */
class HedgeDelayTest {
  private final ManualClock clock = new ManualClock();

  private static long ms(long millis) {
    return TimeUnit.MILLISECONDS.toNanos(millis);
  }

  private HedgeDelay percentile(double p) {
    return new HedgeDelay(new HedgePolicy(null, p, 1, HedgePolicy.Target.NEXT_REGION), clock);
  }

  @Test
  void aFixedDelayIsTheDelay() {
    HedgeDelay delay = new HedgeDelay(new HedgePolicy(Duration.ofMillis(50), 0, 1, HedgePolicy.Target.SAME_REGION), clock);
    assertThat(delay.isMeasured()).isFalse();
    delay.record(ms(900));
    assertThat(delay.delayNanos()).isEqualTo(ms(50));
  }

  @Test
  void aPercentileIsUnknownUntilASecondHasEnoughSamplesThenFollowsTheLatencies() {
    HedgeDelay delay = percentile(95);
    for (int i = 1; i <= 100; i++) {
      delay.record(ms(i)); // 1..100 ms
    }
    assertThat(delay.delayNanos()).as("no second has passed").isEqualTo(-1);
    clock.advance(Duration.ofSeconds(1));
    assertThat(delay.delayNanos()).isBetween(ms(94), ms(97));
    // A window with too few samples gives no delay.
    HedgeDelay sparse = percentile(95);
    for (int i = 0; i < HedgeDelay.MIN_SAMPLES - 1; i++) {
      sparse.record(ms(10));
    }
    clock.advance(Duration.ofSeconds(1));
    assertThat(sparse.delayNanos()).isEqualTo(-1);
  }

  @Test
  void theWindowForgetsLatenciesOlderThanTenSeconds() {
    HedgeDelay delay = percentile(99);
    for (int i = 0; i < 100; i++) {
      delay.record(ms(200));
    }
    clock.advance(Duration.ofSeconds(1));
    assertThat(delay.delayNanos()).isBetween(ms(198), ms(202));
    for (int i = 0; i < 100; i++) {
      delay.record(ms(20));
    }
    clock.advance(Duration.ofSeconds(5));
    assertThat(delay.delayNanos()).as("both seconds in the window").isBetween(ms(198), ms(202));
    for (int i = 0; i < 100; i++) {
      delay.record(ms(20));
    }
    clock.advance(Duration.ofSeconds(6));
    assertThat(delay.delayNanos()).as("the 200 ms second left the window").isBetween(ms(19), ms(21));
  }

  @Test
  void aPercentileNeverGoesBelowOneMillisecond() {
    HedgeDelay delay = percentile(50);
    for (int i = 0; i < 100; i++) {
      delay.record(TimeUnit.MICROSECONDS.toNanos(80));
    }
    clock.advance(Duration.ofSeconds(2));
    assertThat(delay.delayNanos()).isEqualTo(HedgeDelay.FLOOR_NANOS);
  }

  @Test
  void aPolicyNeedsExactlyOneDelayAndABoundedCount() {
    assertThatThrownBy(() -> new HedgePolicy(Duration.ofMillis(5), 95, 1, HedgePolicy.Target.NEXT_REGION))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HedgePolicy(null, 0, 1, HedgePolicy.Target.NEXT_REGION))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HedgePolicy(Duration.ofMillis(5), 0, HedgePolicy.MAX_HEDGES + 1,
        HedgePolicy.Target.NEXT_REGION)).isInstanceOf(IllegalArgumentException.class);
    assertThat(new HedgePolicy(null, 99.9, 1, HedgePolicy.Target.NEXT_REGION)).hasToString("p99.9");
    assertThat(new HedgePolicy(Duration.ofMillis(50), 0, 1, HedgePolicy.Target.NEXT_REGION)).hasToString("50ms");
  }
}
