package dev.meridian.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.GroupStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutlierDetectorTest {
  private final FakeClock clock = new FakeClock();
  private final HealthRegistry registry = new HealthRegistry();

  private static BackendGroup group(int n) {
    List<Backend> backends = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      backends.add(new Backend("b" + i, "127.0.0.1", 9000 + i, "us-east", 1));
    }
    return new BackendGroup("app", backends);
  }

  /** The defaults, with 5xx responses counted (5 in a row eject). */
  private static final PassiveSettings COUNTING_5XX =
      new PassiveSettings(5, 3, Duration.ofSeconds(30), Duration.ofSeconds(300), 50, 0, Duration.ofSeconds(30), true);

  private static PassiveSettings settings(Duration base, Duration max, int maxPercent) {
    return new PassiveSettings(5, 3, base, max, maxPercent, 0, Duration.ofSeconds(30), true);
  }

  private void fail5xx(OutlierDetector detector, Backend b, int times) {
    for (int i = 0; i < times; i++) {
      detector.onResponse(b, 503);
    }
  }

  /** By default a 5xx is not counted (any client could ask for a URL that fails); gateway failures are. */
  @Test
  void byDefaultOnlyGatewayFailuresEject() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry, PassiveSettings.DEFAULTS, null, clock);

    fail5xx(detector, b1, 50);
    assertThat(registry.isAvailable(b1)).as("5xx responses are the application's answers").isTrue();

    detector.onGatewayFailure(b1, "reset");
    detector.onGatewayFailure(b1, "timeout");
    fail5xx(detector, b1, 1);
    detector.onGatewayFailure(b1, "reset");
    assertThat(registry.isAvailable(b1)).as("a response ends the gateway-failure streak").isTrue();
    detector.onGatewayFailure(b1, "reset");
    detector.onGatewayFailure(b1, "timeout");
    assertThat(registry.isAvailable(b1)).isFalse();
    assertThat(registry.reasons("b1").get(OutlierDetector.OWNER))
        .startsWith("3 consecutive gateway failures (last timeout)");
  }

  @Test
  void fiveConsecutive5xxEject() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);

    fail5xx(detector, b1, 4);
    detector.onResponse(b1, 200);
    fail5xx(detector, b1, 4);
    assertThat(registry.isAvailable(b1)).as("a success ends the streak").isTrue();

    detector.onResponse(b1, 500);
    assertThat(registry.isAvailable(b1)).isFalse();
    assertThat(registry.reasons("b1").get(OutlierDetector.OWNER))
        .isEqualTo("5 consecutive 5xx responses (last 500), ejected for 30s");
  }

  @Test
  void aRebuiltGroupsDetectorTakesOverTheEjectionsOfTheBackendsThatStay() {
    BackendGroup before = group(4);
    Backend b1 = before.backends().get(0);
    OutlierDetector old = new OutlierDetector(before, registry, COUNTING_5XX, null, clock);
    fail5xx(old, b1, 5);
    old.onResponse(before.backends().get(1), 503);

    List<Backend> grown = new ArrayList<>(before.backends());
    grown.add(new Backend("b9", "127.0.0.1", 9009, "us-east", 1));
    OutlierDetector next = new OutlierDetector(new BackendGroup("app", grown), registry, COUNTING_5XX,
        null, clock);
    next.takeOver(old);

    assertThat(next.isEjected(b1)).isTrue();
    assertThat(next.totalEjections("b1")).isEqualTo(1);
    assertThat(next.statuses()).filteredOn(s -> s.backendId().equals("b2")).singleElement()
        .satisfies(s -> assertThat(s.consecutive5xx()).isEqualTo(1));
    clock.advance(Duration.ofSeconds(31));
    next.tick();
    assertThat(next.isEjected(b1)).as("the new detector ends the ejection in time").isFalse();
    assertThat(registry.isAvailable(b1)).isTrue();
  }

  @Test
  void whatTheReplacedDetectorIsToldCountsInTheOneThatTookItsPlace() {
    BackendGroup before = group(4);
    Backend b1 = before.backends().get(0);
    OutlierDetector old = new OutlierDetector(before, registry, COUNTING_5XX, null, clock);
    OutlierDetector next = new OutlierDetector(group(4), registry, COUNTING_5XX, null, clock);
    next.takeOver(old);

    // A request still in flight on the old group meets a refused connection after the reload.
    old.onConnectFailure(b1, true);
    assertThat(registry.isAvailable(b1)).isFalse();
    assertThat(next.isEjected(b1)).as("the ejection is the running detector's").isTrue();
    assertThat(old.recentlyRefused(b1)).isTrue();
    clock.advance(Duration.ofSeconds(31));
    old.tick();
    assertThat(registry.isAvailable(b1)).as("the replaced detector no longer ticks").isFalse();
    next.tick();
    assertThat(registry.isAvailable(b1)).as("so it ends in time, not never").isTrue();

    old.onConnectFailure(b1, true);
    assertThat(next.isEjected(b1)).isTrue();
    old.activeCheckPassed(b1); // the old checker, not yet closed
    assertThat(next.isEjected(b1)).as("a passing check the old one hears returns it in the new one").isFalse();
    assertThat(registry.isAvailable(b1)).isTrue();
  }

  @Test
  void anIdMovedToAnotherAddressStartsOverInTheDetectorThatTookOver() {
    BackendGroup before = group(4);
    Backend atOldAddress = before.backends().get(0);
    OutlierDetector old = new OutlierDetector(before, registry, COUNTING_5XX, null, clock);
    old.onConnectFailure(atOldAddress, true);
    assertThat(registry.isAvailable(atOldAddress)).isFalse();

    List<Backend> moved = new ArrayList<>(before.backends());
    Backend atNewAddress = new Backend("b1", "127.0.0.1", 9101, "us-east", 1);
    moved.set(0, atNewAddress);
    OutlierDetector next = new OutlierDetector(new BackendGroup("app", moved), registry, COUNTING_5XX, null, clock);
    next.takeOver(old);

    assertThat(next.isEjected(atNewAddress)).isFalse();
    assertThat(registry.isAvailable(atNewAddress)).as("the old address's ejection ends").isTrue();
    assertThat(next.recentlyRefused(atNewAddress)).isFalse();
    old.onConnectFailure(atOldAddress, true);
    next.onGatewayFailure(atOldAddress, "reset");
    assertThat(registry.isAvailable(atNewAddress)).as("failures at the old address are not the new one's").isTrue();
    assertThat(next.totalEjections("b1")).isZero();
  }

  @Test
  void threeGatewayFailuresEject() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);

    detector.onGatewayFailure(b1, "connect-refused");
    detector.onGatewayFailure(b1, "reset");
    detector.onResponse(b1, 404);
    detector.onGatewayFailure(b1, "reset");
    detector.onGatewayFailure(b1, "reset");
    assertThat(registry.isAvailable(b1)).as("a response ends the streak").isTrue();

    detector.onGatewayFailure(b1, "timeout");
    assertThat(registry.isAvailable(b1)).isFalse();
    assertThat(registry.reasons("b1").get("outlier")).startsWith("3 consecutive gateway failures (last timeout)");
  }

  /** An operator's restore ends an ejection before its time, and the next failure starts a new streak. */
  @Test
  void anOperatorReinstatesAnEjectedBackendAtOnce() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);
    for (int i = 0; i < 3; i++) {
      detector.onGatewayFailure(b1, "timeout");
    }
    assertThat(registry.isAvailable(b1)).isFalse();

    detector.reinstate(b1);
    assertThat(registry.isAvailable(b1)).isTrue();
    assertThat(detector.isEjected(b1)).isFalse();
    detector.onGatewayFailure(b1, "timeout");
    assertThat(registry.isAvailable(b1)).as("one failure after the restore is no streak").isTrue();
  }

  @Test
  void tickReturnsBackendWhenItsTimeIsUp() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);
    fail5xx(detector, b1, 5);

    clock.advance(Duration.ofSeconds(29));
    detector.tick();
    assertThat(registry.isAvailable(b1)).isFalse();
    assertThat(detector.statuses().get(0).ejectedFor()).contains(Duration.ofSeconds(1));

    clock.advance(Duration.ofSeconds(1));
    detector.tick();
    assertThat(registry.isAvailable(b1)).isTrue();
    assertThat(detector.isEjected(b1)).isFalse();
  }

  @Test
  void ejectionTimeGrowsOnRepeatAndIsCapped() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry,
        settings(Duration.ofSeconds(30), Duration.ofSeconds(80), 50), null, clock);

    List<Long> ejectionSeconds = new ArrayList<>();
    for (int round = 0; round < 4; round++) {
      fail5xx(detector, b1, 5);
      assertThat(registry.isAvailable(b1)).isFalse();
      long seconds = 0;
      while (!registry.isAvailable(b1)) {
        clock.advance(Duration.ofSeconds(1));
        detector.tick();
        seconds++;
      }
      ejectionSeconds.add(seconds);
    }
    assertThat(ejectionSeconds).containsExactly(30L, 60L, 80L, 80L);
    assertThat(detector.statuses().get(0).timesEjected()).isEqualTo(4);
  }

  @Test
  void oldEjectionsAreForgivenAfterAMaxEjectionTimeWithoutOne() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);
    fail5xx(detector, b1, 5);
    clock.advance(Duration.ofSeconds(30));
    detector.tick();
    clock.advance(Duration.ofSeconds(300));
    detector.tick();
    assertThat(detector.statuses().get(0).timesEjected()).isZero();

    fail5xx(detector, b1, 5);
    assertThat(registry.reasons("b1").get("outlier")).endsWith("ejected for 30s");
  }

  @Test
  void maxEjectionPercentHolds() {
    BackendGroup g = group(4);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);
    for (Backend b : g.backends()) {
      fail5xx(detector, b, 5);
    }
    assertThat(g.backends()).filteredOn(registry::isAvailable).extracting(Backend::id)
        .containsExactly("b3", "b4");

    clock.advance(Duration.ofSeconds(30));
    detector.tick();
    detector.onResponse(g.backends().get(2), 503);
    assertThat(registry.isAvailable(g.backends().get(2)))
        .as("the streak was kept, so the next failure ejects once there is room").isFalse();
  }

  @Test
  void lastAvailableBackendIsNeverEjected() {
    BackendGroup g = group(2);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry,
        settings(Duration.ofSeconds(30), Duration.ofSeconds(300), 100), null, clock);
    registry.markOut("b2", "active-check", "3 failed checks: status 500");

    fail5xx(detector, b1, 20);
    assertThat(registry.isAvailable(b1)).isTrue();

    registry.clear("b2", "active-check");
    detector.onResponse(b1, 502);
    assertThat(registry.isAvailable(b1)).isFalse();
  }

  @Test
  void passingActiveCheckReturnsEjectedBackendEarly() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);
    fail5xx(detector, b1, 5);
    clock.advance(Duration.ofSeconds(2));

    detector.activeCheckPassed(b1);
    assertThat(registry.isAvailable(b1)).isTrue();
    fail5xx(detector, b1, 4);
    assertThat(registry.isAvailable(b1)).as("the streak starts over").isTrue();
  }

  @Test
  void outcomesWhileEjectedAreIgnored() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);
    fail5xx(detector, b1, 5);
    fail5xx(detector, b1, 50);
    assertThat(detector.statuses().get(0).timesEjected()).isEqualTo(1);
  }

  @Test
  void latencyOutlierIsEjectedOnlyAfterASustainedWindow() {
    BackendGroup g = group(4);
    Backend slow = g.backends().get(3);
    GroupStats stats = new GroupStats(g.backends(), clock, Duration.ofSeconds(1).toNanos());
    PassiveSettings settings = new PassiveSettings(5, 3, Duration.ofSeconds(30), Duration.ofSeconds(300),
        50, 3.0, Duration.ofSeconds(30), true);
    OutlierDetector detector = new OutlierDetector(g, registry, settings, stats, clock);

    // 20 s slow, then a normal second, then 20 s slow again: never 30 s in a row.
    for (int second = 0; second < 41; second++) {
      long slowMillis = second == 20 ? 10 : 100;
      oneSecondOfTraffic(g, stats, slow, slowMillis);
      detector.tick();
      assertThat(registry.isAvailable(slow)).as("second %s", second).isTrue();
    }
    // The second slow stretch began at second 21: 30 s later, at second 51, it is ejected.
    int more = 0;
    while (registry.isAvailable(slow) && more < 20) {
      oneSecondOfTraffic(g, stats, slow, 100);
      detector.tick();
      more++;
    }
    assertThat(registry.isAvailable(slow)).isFalse();
    assertThat(41 + more - 1).isEqualTo(51);
    assertThat(registry.reasons(slow.id()).get("outlier")).contains("the group median").contains("for 30s");
    assertThat(g.backends().subList(0, 3)).allMatch(registry::isAvailable);
  }

  @Test
  void latencyOutliersAreOffByDefault() {
    BackendGroup g = group(4);
    Backend slow = g.backends().get(3);
    GroupStats stats = new GroupStats(g.backends(), clock, Duration.ofSeconds(1).toNanos());
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, stats, clock);
    for (int second = 0; second < 120; second++) {
      oneSecondOfTraffic(g, stats, slow, 1000);
      detector.tick();
    }
    assertThat(registry.isAvailable(slow)).isTrue();
  }

  private void oneSecondOfTraffic(BackendGroup g, GroupStats stats, Backend slow, long slowMillis) {
    clock.advance(Duration.ofSeconds(1));
    for (Backend b : g.backends()) {
      long millis = b.equals(slow) ? slowMillis : 10;
      stats.of(b).observe(Duration.ofMillis(millis).toNanos());
    }
  }

  @Test
  void withActiveChecksTheEjectionSaysTheFirstPassingCheckEndsIt() {
    BackendGroup g = group(3);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);
    detector.activeCheckPassed(g.backends().get(1));
    detector.onConnectFailure(g.backends().get(0), true);
    assertThat(registry.reasons("b1").get(OutlierDetector.OWNER))
        .isEqualTo("connection refused, ejected for 30s or until an active check passes");
  }

  @Test
  void aRefusedConnectEjectsAtOnceBeyondTheEjectionCapButNeverTheLastBackend() {
    BackendGroup g = group(3);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);

    detector.onConnectFailure(g.backends().get(0), true);
    assertThat(registry.isAvailable("b1")).isFalse();
    assertThat(registry.reasons("b1").get(OutlierDetector.OWNER)).isEqualTo("connection refused, ejected for 30s");
    // Two of three is beyond max-ejection-percent 50: a refused connect ejects anyway.
    detector.onConnectFailure(g.backends().get(1), true);
    assertThat(registry.isAvailable("b2")).isFalse();
    // The last available backend stays (the panic threshold decides what happens then).
    detector.onConnectFailure(g.backends().get(2), true);
    assertThat(registry.isAvailable("b3")).isTrue();
  }

  @Test
  void aTimedOutConnectIsAGatewayFailureAndRefusalsCanBeTreatedSoToo() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);
    detector.onConnectFailure(b1, false);
    detector.onConnectFailure(b1, false);
    assertThat(registry.isAvailable(b1)).isTrue();
    detector.onConnectFailure(b1, false);
    assertThat(registry.reasons("b1").get(OutlierDetector.OWNER))
        .isEqualTo("3 consecutive gateway failures (last connect-timeout), ejected for 30s");

    PassiveSettings off = new PassiveSettings(5, 3, Duration.ofSeconds(30), Duration.ofSeconds(300), 50, 0,
        Duration.ofSeconds(30), false);
    HealthRegistry other = new HealthRegistry();
    OutlierDetector lenient = new OutlierDetector(g, other, off, null, clock);
    lenient.onConnectFailure(b1, true);
    assertThat(other.isAvailable(b1)).isTrue();
    assertThat(lenient.recentlyRefused(b1)).isTrue();
  }

  @Test
  void aRefusalIsRecentForTheBaseEjectionTimeOrUntilAnActiveCheckPasses() {
    BackendGroup g = group(4);
    Backend b1 = g.backends().get(0);
    Backend b2 = g.backends().get(1);
    OutlierDetector detector = new OutlierDetector(g, registry, COUNTING_5XX, null, clock);
    assertThat(detector.recentlyRefused(b1)).isFalse();
    detector.onConnectFailure(b1, true);
    detector.onConnectFailure(b2, true);
    clock.advance(Duration.ofSeconds(29));
    assertThat(detector.recentlyRefused(b1)).isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(detector.recentlyRefused(b1)).isFalse();

    detector.onConnectFailure(b2, true);
    detector.activeCheckPassed(b2);
    assertThat(detector.recentlyRefused(b2)).isFalse();
    assertThat(registry.isAvailable(b2)).isTrue();
  }
}
