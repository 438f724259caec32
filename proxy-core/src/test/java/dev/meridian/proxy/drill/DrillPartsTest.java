package dev.meridian.proxy.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meridian.proxy.admin.DurationParam;
import dev.meridian.proxy.regions.LatencyBuckets;
import dev.meridian.proxy.regions.RegionFault;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The drill's small parts: actions, SLOs, durations, faults and the bucket quantiles. */
class DrillPartsTest {

  @ParameterizedTest
  @CsvSource({"dial=0, dial=0", "DIAL=35%, dial=35", "eject, eject", "delay=200ms, delay=200ms",
      "delay=1.5s, delay=1500ms", "abort=503:10%, abort=503:10%", "abort=502, abort=502:100%",
      "abort=500:0.5, abort=500:0.5%"})
  void actionsReadAsWritten(String text, String canonical) {
    assertThat(DrillAction.parse(text)).hasToString(canonical);
  }

  @ParameterizedTest
  @ValueSource(strings = {"dial=101", "dial=-1", "dial=x", "delay=0", "delay=soon", "abort=404", "abort=503:0",
      "abort=503:150%", "abort=503:1:2", "abort=503:NaN", "restart", ""})
  void badActionsAreRefusedWithTheExpectedForms(String text) {
    assertThatThrownBy(() -> DrillAction.parse(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected: dial=0-100, eject, delay=200ms or abort=503:10%");
  }

  @Test
  void slosReadEveryObjective() {
    SloSpec slo = SloSpec.parse("errors=0, shift=1s,failback=2500ms,p50=10ms,p99=200ms,p999=1s,errors=0.5%");
    assertThat(slo.objectives()).extracting(SloSpec.Objective::name)
        .containsExactly("errors", "shift", "failback", "p50", "p99", "p999", "errors");
    assertThat(slo.objectives().get(2).limit()).isEqualTo(2500);
    assertThat(slo.objectives().get(6).percent()).isTrue();
    assertThat(SloSpec.parse(null).objectives()).isEmpty();
    assertThatThrownBy(() -> SloSpec.parse("latency=1s")).hasMessageContaining("unknown objective 'latency'");
    assertThatThrownBy(() -> SloSpec.parse("errors=-1")).hasMessageContaining("errors '-1'");
    assertThatThrownBy(() -> SloSpec.parse("errors=NaN")).hasMessageContaining("errors 'NaN'");
    assertThatThrownBy(() -> SloSpec.parse("shift")).hasMessageContaining("slo: 'shift'");
  }

  @Test
  void durationsReadLikeTheConfigurationFile() {
    assertThat(DurationParam.parse("d", "250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(DurationParam.parse("d", "250")).isEqualTo(Duration.ofMillis(250));
    assertThat(DurationParam.parse("d", "1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(DurationParam.parse("d", "2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(DurationParam.parse("d", " 1H ")).isEqualTo(Duration.ofHours(1));
    assertThatThrownBy(() -> DurationParam.parse("ttl", "-1s")).hasMessage(
        "ttl: '-1s' (expected: a duration such as 250ms, 30s or 2m)");
    assertThatThrownBy(() -> DurationParam.parse("ttl", "999h")).hasMessageContaining("at most 30 days");
  }

  @Test
  void faultsDescribeThemselvesAndRefuseNonsense() {
    assertThat(new RegionFault(200_000_000, 0, 0).describe()).isEqualTo("delay 200ms");
    assertThat(new RegionFault(0, 503, 0.1).describe()).isEqualTo("abort 503 10%");
    assertThat(new RegionFault(50_000_000, 502, 1).describe()).isEqualTo("delay 50ms, abort 502 100%");
    assertThat(new RegionFault(0, 503, 1).aborts()).isTrue();
    assertThat(new RegionFault(1, 0, 0).aborts()).isFalse();
    assertThatThrownBy(() -> new RegionFault(0, 0, 0)).hasMessageContaining("nothing to inject");
    assertThatThrownBy(() -> new RegionFault(0, 200, 1)).hasMessageContaining("abort: 200");
    assertThatThrownBy(() -> new RegionFault(0, 503, 2)).hasMessageContaining("percent: 200");
    assertThatThrownBy(() -> new RegionFault(0, 503, Double.NaN)).hasMessageContaining("percent: NaN");
  }

  @Test
  void bucketQuantilesInterpolateInsideTheBucketLikePrometheus() {
    LatencyBuckets buckets = new LatencyBuckets();
    for (int i = 0; i < 90; i++) {
      buckets.record(3_000_000); // 3 ms: the (2, 5] bucket
    }
    for (int i = 0; i < 10; i++) {
      buckets.record(150_000_000); // 150 ms: the (100, 200] bucket
    }
    long[] counts = buckets.snapshot();
    assertThat(LatencyBuckets.quantileMillis(counts, 0.5)).isCloseTo(2 + 3 * 50 / 90.0, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(LatencyBuckets.quantileMillis(counts, 0.95)).isEqualTo(150.0);
    assertThat(LatencyBuckets.quantileMillis(counts, 1.0)).isEqualTo(200.0);
    assertThat(LatencyBuckets.quantileMillis(new long[counts.length], 0.5)).isNaN();
    buckets.record(Long.MAX_VALUE);
    assertThat(LatencyBuckets.quantileMillis(buckets.snapshot(), 1.0)).isEqualTo(30_000.0);
  }
}
