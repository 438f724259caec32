package dev.meridian.proxy.steering;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * End to end through the proxy with three regional backends on 127.0.0.1, each with its own added
 * latency: latency steering, failover when a region is dialled to 0, writer routing and
 * read-your-writes, and residency.
 */
class RegionSteeringTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, Long> LATENCY_MS = new LinkedHashMap<>();

  static {
    LATENCY_MS.put("us-east", 5L);
    LATENCY_MS.put("eu-west", 40L);
    LATENCY_MS.put("ap-south", 120L);
  }

  private RegionalBackends backends;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private MeridianInstance proxy;

  private void start(String groupExtras, String routeExtras) throws Exception {
    backends = RegionalBackends.start(List.copyOf(LATENCY_MS.keySet()),
        region -> request -> Reply.ok(region).delay(Duration.ofMillis(LATENCY_MS.get(region))));
    String hocon = "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  cookie-secret = \"a-test-secret-of-enough-length\"\n"
        + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
        + "  backend-groups { app { strategy = \"round-robin\", backends = [\n" + backends.hoconList() + "]\n" + groupExtras + "\n} }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" " + routeExtras + " } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "steering-test")).start();
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

  private HttpResponse<String> send(String method, String clientRegion, String cookie, Map<String, String> extra)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/data"))
        .timeout(Duration.ofSeconds(10))
        .method(method, method.equals("GET") ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString("x"));
    if (clientRegion != null) {
      b.header("X-Client-Region", clientRegion);
    }
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    extra.forEach(b::header);
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String clientRegion) throws Exception {
    return send("GET", clientRegion, null, Map.of());
  }

  private static final String FAILOVER = "regions { failover { eu-west = [eu-west, us-east, ap-south], "
      + "us-east = [us-east, eu-west, ap-south], default = [us-east, eu-west, ap-south] }, "
      + "writer = \"us-east\", read-your-writes = 5s }";

  @Test
  void clientRegionHeaderPicksTheRegionAndSaysSo() throws Exception {
    start(FAILOVER, "");
    HttpResponse<String> response = get("eu-west");
    assertThat(response.body()).isEqualTo("eu-west");
    assertThat(response.headers().firstValue("X-Meridian-Backend")).hasValue("eu-west-1");
    assertThat(response.headers().firstValue("X-Meridian-Decision")).hasValue("geo eu-west");
    assertThat(get(null).body()).isEqualTo("us-east");
  }

  @Test
  void regionDialledToZeroFailsOverInOrder() throws Exception {
    start(FAILOVER, "");
    HttpResponse<String> dial = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + proxy.adminAddress().getPort() + "/admin/api/regions/app/eu-west/dial?percent=0"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(dial.statusCode()).isEqualTo(200);
    JsonNode dials = JSON.readTree(dial.body());
    assertThat(dials.path("eu-west").isIntegralNumber()).as(dial.body()).isTrue();
    assertThat(dials.path("eu-west").intValue()).as(dial.body()).isZero();
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> response = get("eu-west");
      assertThat(response.body()).isEqualTo("us-east");
      assertThat(response.headers().firstValue("X-Meridian-Decision"))
          .hasValue("failover eu-west->us-east: dialled to 0");
    }
  }

  @Test
  void writesGoToTheWriterAndTheClientsReadsFollowForAWhile() throws Exception {
    start(FAILOVER, "");
    HttpResponse<String> write = send("POST", "eu-west", null, Map.of());
    assertThat(write.body()).isEqualTo("us-east");
    assertThat(write.headers().firstValue("X-Meridian-Decision")).hasValue("writer us-east");
    String setCookie = write.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(setCookie).startsWith("meridian_ryw=").contains("Max-Age=5").contains("HttpOnly");
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));

    HttpResponse<String> read = send("GET", "eu-west", cookie, Map.of());
    assertThat(read.body()).isEqualTo("us-east");
    assertThat(read.headers().firstValue("X-Meridian-Decision").orElseThrow()).startsWith("read-your-writes");
    assertThat(send("GET", "eu-west", "meridian_ryw=99999999999999.forged", Map.of()).body()).isEqualTo("eu-west");
    assertThat(get("eu-west").body()).isEqualTo("eu-west");
  }

  @Test
  void latencySteeringSendsMostTrafficToTheFastestRegion() throws Exception {
    // A short decay: the first request to each region also pays for new connections (and, in a
    // fresh proxy, for code not yet compiled), a peak that must not decide the race for long.
    start("ewma-decay = 2s", "");
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 60; i++) {
      String region = get(null).body();
      if (i >= 30) {
        counts.merge(region, 1, Integer::sum);
      }
    }
    // Each region is probed, then the fastest (us-east, 5 ms) keeps the traffic.
    assertThat(counts.getOrDefault("us-east", 0)).as("last 30 requests by region: " + counts)
        .isGreaterThanOrEqualTo(27);
  }

  @Test
  void residencyKeepsRequestsInTheirRegionsOrAnswers503() throws Exception {
    start(FAILOVER, ", residency { header = \"X-Data-Residency\", regions { eu = [eu-west] } }");
    assertThat(send("GET", "us-east", null, Map.of("X-Data-Residency", "eu")).body()).isEqualTo("eu-west");
    assertThat(send("POST", "us-east", null, Map.of("X-Data-Residency", "eu")).statusCode()).isEqualTo(503);
    assertThat(send("GET", "us-east", null, Map.of("X-Data-Residency", "mars")).statusCode()).isEqualTo(400);
    backends.get("eu-west").close();
    proxy.health("app").markOut("eu-west-1", "test", "stopped");
    HttpResponse<String> refused = send("GET", "us-east", null, Map.of("X-Data-Residency", "eu"));
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.body()).as("debug-headers is on: the body says why").contains("residency class 'eu'");
    assertThat(refused.headers().firstValue("Retry-After")).as("a 503 is temporary").hasValue("1");
  }
}
