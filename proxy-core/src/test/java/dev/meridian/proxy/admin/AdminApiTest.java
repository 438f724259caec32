package dev.meridian.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.ConfigReloader;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.InvalidConfigException;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API's access and configuration calls: the bearer token (and the dashboard's cookie),
 * {@code /admin/api/config} with secrets redacted, and {@code POST /admin/api/reload} applying a
 * valid file and answering a broken one's problems while the old configuration keeps serving.
 */
class AdminApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "0123456789abcdef0123456789abcdef";
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private TestBackend backend;
  private MeridianInstance proxy;
  private ConfigReloader reloader;

  @TempDir
  Path dir;

  @AfterEach
  void stop() {
    if (reloader != null) {
      reloader.close();
    }
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    if (backend != null) {
      backend.close();
    }
  }

  private String config(String route, String adminExtras) {
    return "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\"" + adminExtras + " }\n"
        + "  cookie-secret = \"do-not-show-this-secret-anywhere\"\n"
        + "  backend-groups { app { backends = [ { id = \"a1\", address = \"127.0.0.1:" + backend.port() + "\" } ] } }\n"
        + "  routes = [ { name = \"" + route + "\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n";
  }

  private Path start(String adminExtras) throws Exception {
    backend = TestBackend.start(TestBackend.ok("hi"));
    Path file = dir.resolve("meridian.conf");
    Files.writeString(file, config("first", adminExtras));
    proxy = new MeridianInstance(SettingsLoader.load(file)).start();
    reloader = new ConfigReloader(file, proxy);
    proxy.reloadFrom(reloader);
    return file;
  }

  private HttpResponse<String> call(String method, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + path))
        .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aTokenGuardsEverythingButHealthAndTheDashboardFiles() throws Exception {
    Files.writeString(dir.resolve("admin.token"), TOKEN + "\n");
    start(", token-file = \"admin.token\"");

    assertThat(call("GET", "/healthz").statusCode()).isEqualTo(200);
    assertThat(call("GET", "/").statusCode()).isEqualTo(200);
    assertThat(call("GET", "/dashboard.js").statusCode()).isEqualTo(200);

    HttpResponse<String> none = call("GET", "/metrics");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"meridian-admin\"");
    assertThat(call("GET", "/admin/api/regions", "Authorization", "Bearer wrong-token-of-some-length").statusCode())
        .isEqualTo(401);
    assertThat(call("POST", "/admin/api/regions/app/default/dial?percent=0").statusCode()).isEqualTo(401);
    assertThat(call("GET", "/admin/api/stream").statusCode()).isEqualTo(401);

    assertThat(call("GET", "/metrics", "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
    assertThat(call("GET", "/admin/api/backends", "Cookie", "meridian_admin_token=" + TOKEN).statusCode())
        .as("no cookie carries the token: a host's cookies go to all its ports, and on to backends").isEqualTo(401);
  }

  @Test
  void withMetricsOffNothingIsRecordedAndMetricsIsNotFoundButTheApiStillCounts() throws Exception {
    start(", metrics = false");
    HttpResponse<String> proxied = client.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/x")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(proxied.statusCode()).isEqualTo(200);

    HttpResponse<String> metrics = call("GET", "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(404);
    assertThat(metrics.body()).contains("meridian.admin.metrics = false");
    assertThat(proxy.proxy().metrics().registry().getMeters()).as("every meter was denied").isEmpty();
    JsonNode regions = JSON.readTree(call("GET", "/admin/api/regions").body());
    assertThat(regions.findValues("requests").stream().mapToLong(JsonNode::asLong).sum())
        .as("the region counters do not depend on metrics").isGreaterThanOrEqualTo(1);
  }

  /**
   * A web page cannot use an operator's browser against the API: a POST from another origin (a
   * form, a fetch) is refused, and so is any call under a dotted name the listener was not given
   * (a name an attacker re-pointed at the admin address), but for the health checks.
   */
  @Test
  void webPagesOfOtherSitesAndForeignHostNamesAreRefused() throws Exception {
    start(", allowed-hosts = [\"admin.example.internal.\"]");
    String self = "http://127.0.0.1:" + proxy.adminAddress().getPort();

    assertThat(call("POST", "/admin/api/reload", "Origin", "http://evil.example").statusCode()).isEqualTo(403);
    assertThat(call("POST", "/admin/api/reload", "Sec-Fetch-Site", "cross-site").statusCode()).isEqualTo(403);
    assertThat(call("POST", "/admin/api/reload", "Origin", self).statusCode()).as("the dashboard's own page")
        .isEqualTo(200);
    assertThat(call("POST", "/admin/api/reload").statusCode()).as("curl, a script").isEqualTo(200);
    assertThat(call("POST", "/admin/api/reload", "Origin", "https://admin.example.internal").statusCode())
        .as("the dashboard served under its listed name, behind a TLS proxy").isEqualTo(200);

    assertThat(rawGet("/admin/api/config", "evil.example:" + proxy.adminAddress().getPort()).status()).isEqualTo(403);
    assertThat(rawGet("/healthz", "evil.example").status()).isEqualTo(200);
    assertThat(rawGet("/admin/api/config", "ADMIN.example.internal:9901").status()).as("listed").isEqualTo(200);
    assertThat(rawGet("/admin/api/config", "meridian:9901").status()).as("a Compose service's name").isEqualTo(200);
    assertThat(rawGet("/admin/api/config", "[::1]:9901").status()).isEqualTo(200);
    assertThat(rawGet("/admin/api/config", "meridian@evil").status()).as("userinfo is no host name").isEqualTo(403);
    assertThat(rawGet("/admin/api/config", "meridian%2eevil").status()).isEqualTo(403);
    for (String malformed : java.util.List.of("127.0.0.1:1@evil.example", "127.0.0.1:abc", "127.0.0.1:9901 x",
        "127.0.0.1:99999999", "[::1]x", "[::1]:")) {
      assertThat(rawGet("/admin/api/config", malformed).status()).as(malformed).isEqualTo(403);
    }
    assertThat(rawGet("/admin/api/config", "127.0.0.1:9901").status()).isEqualTo(200);
  }

  private dev.meridian.proxy.testing.RawHttpClient.RawResponse rawGet(String path, String host) throws Exception {
    try (dev.meridian.proxy.testing.RawHttpClient raw =
        dev.meridian.proxy.testing.RawHttpClient.connect(proxy.adminAddress().getPort())) {
      raw.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
      return raw.readResponse();
    }
  }

  @Test
  void withoutATokenFileTheApiIsOpen() throws Exception {
    start("");
    assertThat(call("GET", "/admin/api/routes").statusCode()).isEqualTo(200);
  }

  @Test
  void aTokenFileThatHoldsNoTokenIsRefusedWithItsKey() throws Exception {
    backend = TestBackend.start(TestBackend.ok("hi"));
    Files.writeString(dir.resolve("short.token"), "abc\n");
    Path file = dir.resolve("meridian.conf");
    Files.writeString(file, config("first", ", token-file = \"short.token\""));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SettingsLoader.load(file))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("meridian.admin.token-file").hasMessageContaining("at least 16");
  }

  @Test
  void theConfigurationInForceIsShownWithSecretsRedacted() throws Exception {
    start("");
    HttpResponse<String> shown = call("GET", "/admin/api/config");
    assertThat(shown.statusCode()).isEqualTo(200);
    assertThat(shown.body()).contains("cookie-secret").contains("<redacted>").contains("first")
        .doesNotContain("do-not-show-this-secret-anywhere");
  }

  /** A restart-only key a reload changed is named at the top of the configuration shown: it is not in force yet. */
  @Test
  void theConfigurationShownSaysWhichOfItsKeysWaitForARestart() throws Exception {
    Path file = start("");
    assertThat(call("GET", "/admin/api/config").body()).doesNotStartWith("#");
    Files.writeString(file, config("first", "").replace("  cookie-secret", "  server { event-loop-threads = 3 }\n  cookie-secret"));
    assertThat(call("POST", "/admin/api/reload").statusCode()).isEqualTo(200);

    assertThat(call("GET", "/admin/api/config").body())
        .startsWith("# Not in force until a restart (the values the process started with apply): "
            + "meridian.server.event-loop-threads\n");

    Files.writeString(file, config("first", ""));
    assertThat(call("POST", "/admin/api/reload").statusCode()).isEqualTo(200);
    assertThat(call("GET", "/admin/api/config").body()).as("set back").doesNotStartWith("#");
  }

  @Test
  void reloadAppliesAValidFileAndAnswersABrokenOnesProblems() throws Exception {
    Path file = start("");
    Files.writeString(file, config("second", ""));
    HttpResponse<String> applied = call("POST", "/admin/api/reload");
    assertThat(applied.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(applied.body()).get("applied").asBoolean()).isTrue();
    JsonNode routes = JSON.readTree(call("GET", "/admin/api/routes").body());
    assertThat(routes.get(0).get("name").asText()).isEqualTo("second");
    assertThat(call("GET", "/admin/api/config").body()).contains("second");

    Files.writeString(file, config("third", "").replace("backend-group = \"app\"", "backend-group = \"nope\""));
    HttpResponse<String> refused = call("POST", "/admin/api/reload");
    assertThat(refused.statusCode()).isEqualTo(422);
    JsonNode body = JSON.readTree(refused.body());
    assertThat(body.get("applied").asBoolean()).isFalse();
    assertThat(body.get("problems").get(0).asText()).contains("meridian.conf").contains("backend-group").contains("nope");
    assertThat(JSON.readTree(call("GET", "/admin/api/routes").body()).get(0).get("name").asText()).isEqualTo("second");
    HttpResponse<String> proxied = client.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(proxied.body()).isEqualTo("hi");

    HttpResponse<String> getReload = call("GET", "/admin/api/reload");
    assertThat(getReload.statusCode()).isEqualTo(405);
    assertThat(getReload.headers().firstValue("allow")).hasValue("POST");
    HttpResponse<String> getEject = call("GET", "/admin/api/backends/app/b1/eject");
    assertThat(getEject.statusCode()).as("a control called with GET").isEqualTo(405);
    assertThat(getEject.headers().firstValue("allow")).hasValue("POST, DELETE");
    assertThat(call("GET", "/admin/api/nothing-here").statusCode()).isEqualTo(404);
  }

  @Test
  void regionsSayWhatEachRegionDidInTheLastMinute() throws Exception {
    start("");
    for (int i = 0; i < 5; i++) {
      assertThat(client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/")).build(),
          HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("hi");
    }
    // Sampled once a second: the minute's figures appear once two samples span the requests.
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonNode minute = JSON.readTree(call("GET", "/admin/api/regions").body())
          .at("/app/by-region/default/last-minute");
      assertThat(minute.get("share").asDouble()).isEqualTo(1.0);
      assertThat(minute.get("requests-per-second").asDouble()).isPositive();
      assertThat(minute.get("p99-ms").isNumber()).isTrue();
      // The dashboard's first snapshot carries the same minute second by second, for its charts.
      JsonNode history = JSON.readTree(call("GET", "/admin/api/dashboard").body()).at("/groups/app/history/default");
      assertThat(history.get("share")).isNotEmpty().allSatisfy(v -> assertThat(v.asDouble()).isBetween(0.0, 1.0));
      assertThat(history.get("share").toString()).contains("1.0");
      assertThat(history.get("p99-ms").size()).isEqualTo(history.get("share").size());
    });
  }

  /** A sampled decision names its group, so the dashboard lists the selected group's only. */
  @Test
  void recentDecisionsNameTheirGroup() throws Exception {
    start("");
    call("GET", "/admin/api/dashboard"); // a dashboard watches: requests are sampled
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/")).build(),
          HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("hi");
      JsonNode decisions = JSON.readTree(call("GET", "/admin/api/dashboard").body()).get("decisions");
      assertThat(decisions).isNotEmpty();
      assertThat(decisions.get(0).get("group").asText()).isEqualTo("app");
    });
  }

  @Test
  void reloadWithoutAFileSaysSo() throws Exception {
    backend = TestBackend.start(TestBackend.ok("hi"));
    proxy = new MeridianInstance(SettingsLoader.parse(config("first", ""), "inline")).start();
    HttpResponse<String> response = call("POST", "/admin/api/reload");
    assertThat(response.statusCode()).isEqualTo(409);
    assertThat(response.body()).contains("not started from a configuration file");
  }

  /**
   * Connections to the admin port cannot use up the process's file descriptors: one beyond
   * {@link AdminConnections#MAX_CONNECTIONS} is closed as it is accepted (an attacker's 21,000 idle
   * ones stopped the client listeners accepting), one address cannot hold more than
   * {@link AdminConnections#MAX_PER_ADDRESS} (128 busy ones locked the operators out), and one that
   * trickles a head without completing a request is closed after timeouts.client-idle.
   */
  @Test
  void theAdminPortBoundsItsConnectionsAndClosesTrickledHeads() throws Exception {
    backend = TestBackend.start(TestBackend.ok("hi"));
    proxy = new MeridianInstance(SettingsLoader.parse(config("first", "")
        .replace("  cookie-secret", "  timeouts { client-idle = 1s }\n  cookie-secret"), "inline")).start();
    int port = proxy.adminAddress().getPort();
    // Each loopback address holds its share: 16 from each of 127.0.0.2 to 127.0.0.9 fill all 128.
    java.util.List<java.net.InetAddress> eight = new java.util.ArrayList<>();
    for (int a = 0; a < AdminConnections.MAX_CONNECTIONS / AdminConnections.MAX_PER_ADDRESS; a++) {
      eight.add(java.net.InetAddress.getByName("127.0.0." + (2 + a)));
    }
    java.util.List<java.net.Socket> held = holdServed(eight, port);
    try {
      try (java.net.Socket extra = healthzFrom(java.net.InetAddress.getByName("127.0.0.20"), port)) {
        extra.setSoTimeout(5000);
        assertThat(extra.getInputStream().read()).as("the 129th: closed as it was accepted").isEqualTo(-1);
      }
    } finally {
      closeAll(held);
    }
    // One address that keeps its connections busy cannot take every slot: the 17th from it is closed,
    // while another address is still served.
    java.net.InetAddress busy = java.net.InetAddress.getByName("127.0.0.30");
    held = holdServed(java.util.List.of(busy), port); // (once the 128 above are seen closed)
    try {
      try (java.net.Socket extra = healthzFrom(busy, port)) {
        extra.setSoTimeout(5000);
        assertThat(extra.getInputStream().read()).as("the 17th from one address").isEqualTo(-1);
      }
      java.net.InetAddress another = java.net.InetAddress.getByName("127.0.0.31");
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
        try (java.net.Socket other = healthzFrom(another, port)) {
          other.setSoTimeout(5000);
          assertThat(new String(other.getInputStream().readNBytes(12))).isEqualTo("HTTP/1.1 200");
        }
      });
    } finally {
      closeAll(held);
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(call("GET", "/healthz").statusCode()).isEqualTo(200));

    try (java.net.Socket trickle = new java.net.Socket("127.0.0.1", port)) {
      trickle.setSoTimeout(100);
      java.io.OutputStream out = trickle.getOutputStream();
      out.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes());
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
      boolean closed = false;
      while (!closed && System.nanoTime() < deadline) {
        try {
          out.write("X-Slow: 1\r\n".getBytes()); // a line every 100 ms: bytes keep coming, no request does
          closed = trickle.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException stillOpen) {
          // nothing to read yet: trickle on
        } catch (java.io.IOException reset) {
          closed = true;
        }
      }
      assertThat(closed).as("a head trickled for longer than client-idle is closed").isTrue();
    }
  }

  /**
   * {@link AdminConnections#MAX_PER_ADDRESS} connections from each address, each answered 200, taken
   * again until they all are (connections closed just before may not have been seen closed yet).
   */
  private static java.util.List<java.net.Socket> holdServed(java.util.List<java.net.InetAddress> from, int port) {
    return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> {
      java.util.List<java.net.Socket> sockets = new java.util.ArrayList<>();
      try {
        for (java.net.InetAddress address : from) {
          for (int i = 0; i < AdminConnections.MAX_PER_ADDRESS; i++) {
            sockets.add(healthzFrom(address, port));
          }
        }
        for (java.net.Socket s : sockets) {
          s.setSoTimeout(5000);
          if (!new String(s.getInputStream().readNBytes(12)).equals("HTTP/1.1 200")) {
            closeAll(sockets);
            return null;
          }
        }
        return sockets;
      } catch (java.io.IOException e) {
        closeAll(sockets);
        return null;
      }
    }, java.util.Objects::nonNull);
  }

  private static void closeAll(java.util.List<java.net.Socket> sockets) throws java.io.IOException {
    for (java.net.Socket s : sockets) {
      s.close();
    }
  }

  /** A connection to the admin port from {@code from} that has sent a GET /healthz. */
  private static java.net.Socket healthzFrom(java.net.InetAddress from, int port) throws java.io.IOException {
    java.net.Socket s = new java.net.Socket("127.0.0.1", port, from, 0);
    s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes());
    return s;
  }

  /**
   * Admin answers may not be framed (a page framing the dashboard could have an operator click its
   * dial buttons), nor read as another type than they say; the stream is at its own path only.
   */
  @Test
  void answersForbidFramingAndSniffing() throws Exception {
    start("");
    HttpResponse<String> page = call("GET", "/");
    assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
    assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("frame-ancestors 'none'");
    HttpResponse<String> routes = call("GET", "/admin/api/routes");
    assertThat(routes.headers().firstValue("X-Frame-Options")).hasValue("DENY");
    assertThat(routes.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    assertThat(call("GET", "/admin/api/streamx").statusCode()).isEqualTo(404);
    assertThat(call("GET", "/admin/api/stream%00").statusCode()).isEqualTo(404);
  }
}
