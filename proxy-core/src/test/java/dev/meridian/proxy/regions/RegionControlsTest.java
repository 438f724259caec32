package dev.meridian.proxy.regions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RegionalBackends;
import dev.meridian.proxy.testing.TestBackend.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin API's run-time controls end to end: ejecting and restoring a region or a backend, injected
 * delays and aborts (seen in the decision header, the latency EWMA, the retries and the per-region
 * counters), and time limits that undo a change by themselves.
 */
class RegionControlsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private RegionalBackends backends;
  private MeridianInstance proxy;
  private String hocon;

  @BeforeEach
  void start() throws Exception {
    backends = RegionalBackends.start(List.of("eu-west", "us-east"), region -> request -> Reply.ok(region));
    hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
        + "  backend-groups { app { strategy = \"peak-ewma\", backends = [\n" + backends.hoconList() + "]\n"
        + "    health.passive { consecutive-5xx = 1000 }\n"
        + "    regions { failover { eu-west = [eu-west, us-east], default = [us-east, eu-west] } } } }\n"
        + "  routes = [\n"
        + "    { name = \"retrying\", path-prefix = \"/retry/\", backend-group = \"app\","
        + "      retries { on = [connect-failure, reset-before-response, 503] } }\n"
        + "    { name = \"all\", backend-group = \"app\" } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "region-controls-test")).start();
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    if (backends != null) {
      backends.close();
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + proxy.listenerAddresses().get(0).getPort() + path)).header("X-Client-Region", "eu-west")
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> admin(String method, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode region(String name) throws Exception {
    return JSON.readTree(admin("GET", "/admin/api/regions").body()).at("/app/by-region/" + name);
  }

  @Test
  void ejectingARegionMovesItsTrafficUntilItIsRestored() throws Exception {
    assertThat(get("/x").body()).isEqualTo("eu-west");
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/eject").statusCode()).isEqualTo(200);
    assertThat(region("eu-west").get("operator-ejected").asInt()).isEqualTo(1);
    assertThat(region("eu-west").get("available").asInt()).isZero();
    HttpResponse<String> moved = get("/x");
    assertThat(moved.body()).isEqualTo("us-east");
    assertThat(moved.headers().firstValue("X-Meridian-Decision").orElse("")).isEqualTo("failover eu-west->us-east: unhealthy");

    assertThat(admin("POST", "/admin/api/regions/app/eu-west/restore").statusCode()).isEqualTo(200);
    assertThat(get("/x").body()).isEqualTo("eu-west");
    // The proxy counts an exchange just after the client has its answer: wait for the count.
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      assertThat(region("eu-west").get("requests").asLong()).isEqualTo(2);
      assertThat(region("us-east").get("requests").asLong()).isEqualTo(1);
    });
  }

  @Test
  void aTimeLimitUndoesAnEjectionAndADialByItself() throws Exception {
    assertThat(admin("POST", "/admin/api/backends/app/eu-west-1/eject?ttl=1s").statusCode()).isEqualTo(200);
    assertThat(admin("POST", "/admin/api/regions/app/us-east/dial?percent=40&ttl=1500ms").statusCode()).isEqualTo(200);
    JsonNode limits = JSON.readTree(admin("GET", "/admin/api/regions").body()).at("/app/time-limits-ms");
    assertThat(limits.has("eject app/backend/eu-west-1")).isTrue();
    assertThat(limits.has("dial app/us-east")).isTrue();
    assertThat(get("/x").body()).isEqualTo("us-east");

    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.health("app").isAvailable("eu-west-1")
        && proxy.proxy().selectors().get("app").dials().get("us-east") == 100);
    assertThat(get("/x").body()).isEqualTo("eu-west");
  }

  /** A reload (or a discovery update, which rebuilds the groups alike) kept ejections but reset dials to 100%. */
  @Test
  void dialsOutlastAReloadAndTheirTimeLimitsStillRun() throws Exception {
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/dial?percent=0").statusCode()).isEqualTo(200);
    assertThat(admin("POST", "/admin/api/regions/app/us-east/dial?percent=40&ttl=1500ms").statusCode()).isEqualTo(200);
    proxy.proxy().reload(SettingsLoader.parse(hocon, "region-controls-test-reloaded"));
    assertThat(proxy.proxy().selectors().get("app").dials()).containsEntry("eu-west", 0).containsEntry("us-east", 40);
    assertThat(region("eu-west").get("dial").asInt()).isZero();
    assertThat(get("/x").body()).as("the drained region stays drained").isEqualTo("us-east");
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.proxy().selectors().get("app").dials().get("us-east") == 100);
    assertThat(proxy.proxy().selectors().get("app").dials()).containsEntry("eu-west", 0);
  }

  /**
   * A discovery update that briefly finds none of a drained region's backends (the region leaves the
   * group, then comes back) does not bring it back at 100%.
   */
  @Test
  void aDialOutlastsItsRegionLeavingTheGroupForAWhile() throws Exception {
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/dial?percent=0").statusCode()).isEqualTo(200);
    String euWest = String.format("{ id = \"eu-west-1\", address = \"127.0.0.1:%d\", region = \"eu-west\" }%n",
        backends.get("eu-west").port());
    assertThat(hocon).contains(euWest);
    String failover = "regions { failover { eu-west = [eu-west, us-east], default = [us-east, eu-west] } }";
    assertThat(hocon).contains(failover);
    proxy.proxy().reload(SettingsLoader.parse(hocon.replace(euWest, "").replace(failover, ""),
        "region-controls-test-without-eu-west"));
    assertThat(proxy.proxy().selectors().get("app").dials()).doesNotContainKey("eu-west");
    proxy.proxy().reload(SettingsLoader.parse(hocon, "region-controls-test-eu-west-back"));
    assertThat(proxy.proxy().selectors().get("app").dials()).containsEntry("eu-west", 0);
    assertThat(get("/x").body()).as("still drained").isEqualTo("us-east");
  }

  @Test
  void aRegionEjectionAndABackendEjectionAreUndoneSeparately() throws Exception {
    assertThat(admin("POST", "/admin/api/backends/app/eu-west-1/eject").statusCode()).isEqualTo(200);
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/eject").statusCode()).isEqualTo(200);
    assertThat(region("eu-west").get("region-ejected").asBoolean()).isTrue();
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/restore").statusCode()).isEqualTo(200);
    // The backend's own ejection stays until it is restored itself.
    assertThat(proxy.health("app").isAvailable("eu-west-1")).isFalse();
    assertThat(region("eu-west").get("region-ejected").asBoolean()).isFalse();
    assertThat(admin("POST", "/admin/api/backends/app/eu-west-1/restore").statusCode()).isEqualTo(200);
    assertThat(proxy.health("app").isAvailable("eu-west-1")).isTrue();
  }

  @Test
  void aChangeRenewedWithinItsTimeLimitStillUndoesToTheStateBeforeTheFirst() throws Exception {
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/dial?percent=0&ttl=1s").statusCode()).isEqualTo(200);
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/dial?percent=30&ttl=1s").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5))
        .until(() -> proxy.proxy().selectors().get("app").dials().get("eu-west") == 100);
  }

  @Test
  void anInjectedDelayIsForwardedLateAndCountsInTheLatencyEwma() throws Exception {
    HttpResponse<String> set = admin("POST", "/admin/api/regions/app/eu-west/fault?delay=150ms&ttl=30s");
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    assertThat(region("eu-west").at("/fault/delay-ms").asLong()).isEqualTo(150);

    long start = System.nanoTime();
    HttpResponse<String> slow = get("/x");
    long tookMillis = (System.nanoTime() - start) / 1_000_000;
    assertThat(slow.body()).isEqualTo("eu-west");
    assertThat(tookMillis).isGreaterThanOrEqualTo(150);
    assertThat(slow.headers().firstValue("X-Meridian-Decision").orElse("")).endsWith("; fault: delay 150ms");
    assertThat(proxy.proxy().stats().get("app").of(proxy.proxy().groups().get("app").backends().get(0)).costNanos())
        .isGreaterThanOrEqualTo(150_000_000);

    assertThat(admin("DELETE", "/admin/api/regions/app/eu-west/fault").statusCode()).isEqualTo(200);
    assertThat(region("eu-west").get("fault").isNull()).isTrue();
    assertThat(get("/x").headers().firstValue("X-Meridian-Decision").orElse("")).doesNotContain("fault");
  }

  @Test
  void anInjectedAbortAnswersAsTheRegionWouldAndIsRetriedLikeOne() throws Exception {
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/fault?abort=503&percent=100&ttl=1s").statusCode())
        .isEqualTo(200);

    HttpResponse<String> aborted = get("/x");
    assertThat(aborted.statusCode()).isEqualTo(503);
    assertThat(aborted.body()).contains("fault injected by a failover drill: region eu-west answered 503");
    assertThat(aborted.headers().firstValue("X-Meridian-Decision").orElse("")).endsWith("fault: abort 503");
    HttpResponse<String> retried = get("/retry/x");
    assertThat(retried.statusCode()).isEqualTo(200);
    assertThat(retried.body()).isEqualTo("us-east");
    assertThat(region("eu-west").at("/errors-by-kind/backend-5xx").asLong()).isEqualTo(1);

    // The time limit clears the fault by itself.
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.proxy().faults("app").isEmpty());
    assertThat(get("/x").statusCode()).isEqualTo(200);
  }

  @Test
  void badControlCallsAreRefusedWithTheReason() throws Exception {
    HttpResponse<String> group = admin("POST", "/admin/api/regions/nope/eu-west/eject");
    assertThat(group.statusCode()).isEqualTo(400);
    assertThat(group.body()).contains("group: 'nope'");
    assertThat(admin("POST", "/admin/api/regions/app/mars/eject").body()).contains("region: 'mars'");
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/fault?abort=404").body()).contains("abort: 404");
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/fault").body()).contains("nothing to inject");
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/fault?delay=soon").body()).contains("delay: 'soon'");
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/explode").statusCode()).isEqualTo(404);
    assertThat(admin("POST", "/admin/api/backends/app/ghost/eject").body()).contains("backend: 'ghost'");
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/dial?percent=x").body()).contains("percent: 'x'");
    assertThat(admin("POST", "/admin/api/regions/app/eu-west/fault?abort=503&percent=NaN").statusCode()).isEqualTo(400);
    assertThat(proxy.proxy().faults("app")).isEmpty();
    assertThat(proxy.health("app").isAvailable("eu-west-1")).isTrue();
  }
}
