package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** One log line per kind of failure per interval, each counting those left out since the last. */
class FailureLogLimitTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final FailureLogLimit limit = new FailureLogLimit(now::get, TimeUnit.SECONDS.toNanos(1));

  @Test
  void theFirstIsLoggedThenOnePerIntervalWithTheCountLeftOut() {
    assertThat(limit.admit("b1", "connect")).isZero();
    assertThat(limit.admit("b1", "connect")).isEqualTo(-1);
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
    assertThat(limit.admit("b1", "connect")).isEqualTo(-1);
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
    assertThat(limit.admit("b1", "connect")).isEqualTo(2);
    now.addAndGet(TimeUnit.SECONDS.toNanos(5));
    assertThat(limit.admit("b1", "connect")).isZero();
  }

  @Test
  void kindsAreCountedApart() {
    assertThat(limit.admit("b1", "connect")).isZero();
    assertThat(limit.admit("b2", "connect")).isZero();
    assertThat(limit.admit("b1", "closed")).isZero();
    assertThat(limit.admit("b1", "connect")).isEqualTo(-1);
  }

  @Test
  void theSuffixSaysHowManyWereLeftOut() {
    assertThat(FailureLogLimit.leftOut(0)).isEmpty();
    assertThat(FailureLogLimit.leftOut(41)).isEqualTo(" (and 41 more like it since the last logged)");
  }

  @Test
  void anAdmittedLineEndsWithTheCountLeftOut() {
    assertThat(limit.admittedLine("b1", "connect")).isEmpty();
    assertThat(limit.admittedLine("b1", "connect")).isNull();
    assertThat(limit.admittedLine("b1", "connect")).isNull();
    now.addAndGet(TimeUnit.SECONDS.toNanos(1));
    assertThat(limit.admittedLine("b1", "connect")).isEqualTo(" (and 2 more like it since the last logged)");
  }

  @Test
  void kindsQuietForAMinuteAreDroppedOnceThereAreMany() {
    for (int backend = 0; backend < 1024; backend++) {
      limit.admit("gone-" + backend, "connect");
    }
    now.addAndGet(TimeUnit.MINUTES.toNanos(2));
    assertThat(limit.admit("new", "connect")).isZero();
    assertThat(limit.kinds()).isEqualTo(1);
  }
}
