package dev.meridian.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.ConfigReloader;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.metrics.ProxyMetricsEndToEndTest.Scrape;
import dev.meridian.proxy.testing.TestBackend;
import java.net.ServerSocket;
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
 * A backend's upstream meters as an operator scrapes them while reloads move it: an id whose address
 * changed keeps its failure counters and response timer and goes on counting; one that left its group
 * and came back is counted again from its first request. (Both were removed from the scrape for good,
 * while requests went on being counted into meters no scrape showed.)
 */
class BackendMetersAcrossReloadsTest {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private MeridianInstance proxy;
  private ConfigReloader reloader;
  private TestBackend live;

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
    if (live != null) {
      live.close();
    }
  }

  private static String config(String backends) {
    return "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  backend-groups { one { backends = [ " + backends + " ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"one\", retries { attempts = 0 } } ]\n"
        + "}\n";
  }

  private static int refusingPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort(); // closed: connections to it are refused
    }
  }

  private void reloadTo(Path file, String backends) throws Exception {
    Files.writeString(file, config(backends));
    assertThat(reloader.reload().applied()).isTrue();
  }

  private int get() throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + proxy.listenerAddresses().get(0).getPort() + "/x")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private Scrape scrape() throws Exception {
    return Scrape.parse(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + proxy.adminAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body());
  }

  private double refused(Scrape scrape) {
    return scrape.value("meridian_upstream_failures_total", "group", "one", "backend", "solo", "kind", "connect-refused");
  }

  @Test
  void anIdMovedOrGoneAndBackIsStillCounted() throws Exception {
    live = TestBackend.start(TestBackend.ok("hi"));
    Path file = dir.resolve("meridian.conf");
    Files.writeString(file, config("{ id = solo, address = \"127.0.0.1:" + refusingPort() + "\" }"));
    proxy = new MeridianInstance(SettingsLoader.load(file)).start();
    reloader = new ConfigReloader(file, proxy);
    for (int i = 0; i < 3; i++) {
      assertThat(get()).isEqualTo(502);
    }
    assertThat(refused(scrape())).isEqualTo(3);

    reloadTo(file, "{ id = solo, address = \"127.0.0.1:" + refusingPort() + "\" }");
    for (int i = 0; i < 3; i++) {
      assertThat(get()).isEqualTo(502);
    }
    assertThat(refused(scrape())).as("the same id at another address: its series goes on").isEqualTo(6);

    reloadTo(file, "{ id = solo, address = \"127.0.0.1:" + live.port() + "\" }");
    for (int i = 0; i < 3; i++) {
      assertThat(get()).isEqualTo(200);
    }
    Scrape moved = scrape();
    assertThat(moved.value("meridian_upstream_response_time_seconds_count", "group", "one", "backend", "solo"))
        .isEqualTo(3);
    assertThat(moved.value("meridian_backend_in_flight", "group", "one", "backend", "solo", "region", "default")).isZero();

    try (TestBackend slow = TestBackend.start(r -> TestBackend.Reply.ok("late").delay(Duration.ofMillis(1500)))) {
      reloadTo(file, "{ id = solo, address = \"127.0.0.1:" + slow.port() + "\" }");
      java.util.concurrent.CompletableFuture<HttpResponse<String>> late = http.sendAsync(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/late")).build(),
          HttpResponse.BodyHandlers.ofString());
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> slow.requests().size() == 1);
      reloadTo(file, "{ id = other, address = \"127.0.0.1:" + live.port() + "\" }");
      assertThat(scrape().find("meridian_upstream_response_time_seconds_count",
          java.util.Map.of("group", "one", "backend", "solo"))).as("gone with its backend").isEmpty();
      assertThat(late.get(10, java.util.concurrent.TimeUnit.SECONDS).body()).isEqualTo("late");
      assertThat(scrape().find("meridian_upstream_response_time_seconds_count",
          java.util.Map.of("group", "one", "backend", "solo"))).as("not brought back by a late answer").isEmpty();
    }

    reloadTo(file, "{ id = solo, address = \"127.0.0.1:" + live.port() + "\" }");
    for (int i = 0; i < 2; i++) {
      assertThat(get()).isEqualTo(200); // (on connections whose last answer was solo's before it left)
    }
    assertThat(scrape().value("meridian_upstream_response_time_seconds_count", "group", "one", "backend", "solo"))
        .as("back, and counted from its return").isEqualTo(2);
  }
}
