package dev.meridian.proxy.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.balancer.Backend;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.BackendSourceSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.Http2TestBackend;
import dev.meridian.proxy.testing.TestBackend;
import io.micrometer.core.instrument.Counter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File discovery: a backends file read again when it changes, a broken one refused with the last good list kept. */
class FileDiscoveryTest {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final TestBackend one = TestBackend.start(TestBackend.ok("one"));
  private final TestBackend two = TestBackend.start(TestBackend.ok("two"));
  private MeridianInstance meridian;
  @TempDir Path dir;

  @AfterEach
  void stopAll() {
    if (meridian != null) {
      meridian.close();
    }
    one.close();
    two.close();
  }

  private static String entries(int... ports) {
    StringBuilder sb = new StringBuilder("{ \"backends\": [\n");
    for (int i = 0; i < ports.length; i++) {
      sb.append("  { \"address\": \"127.0.0.1:").append(ports[i]).append("\", \"region\": \"eu\" }")
          .append(i + 1 < ports.length ? ",\n" : "\n");
    }
    return sb.append("] }\n").toString();
  }

  /** Starts Meridian with group "app" reading backends.json (checked every 100ms) and {@code groupExtra}. */
  private void startMeridian(String groupExtra) throws Exception {
    Path conf = dir.resolve("meridian.conf");
    Files.writeString(conf, """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:0" } ]
          admin { enabled = false }
          server { event-loop-threads = 1 }
          discovery.file.interval = 100ms
          backend-groups { app {
            backends-file = "backends.json"
            %s
          } }
          routes = [ { path-prefix = "/", backend-group = "app" } ]
        }
        """.formatted(groupExtra));
    meridian = new MeridianInstance(SettingsLoader.load(conf)).start();
  }

  private String get() throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + meridian.listenerAddresses().get(0).getPort() + "/");
    return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private List<String> backendIds() {
    return meridian.proxy().groups().get("app").backends().stream().map(Backend::id).toList();
  }

  private double failures() {
    Counter c = meridian.proxy().metrics().registry().find("meridian.discovery.failures").tag("group", "app").counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void aChangedFileChangesTheBackendsAndABrokenOneIsRefused() throws Exception {
    Path file = dir.resolve("backends.json");
    Files.writeString(file, entries(one.port()));
    startMeridian("");
    assertThat(backendIds()).containsExactly("127.0.0.1:" + one.port());
    assertThat(get()).isEqualTo("one");

    Files.writeString(file, entries(one.port(), two.port()));
    await().atMost(Duration.ofSeconds(5)).until(() -> backendIds().size() == 2);
    assertThat(List.of(get(), get())).containsExactlyInAnyOrder("one", "two");
    assertThat(one.connectionCount()).as("the backend that stayed keeps its pooled connection").isEqualTo(1);

    Files.writeString(file, entries(two.port()).replace("\"region\": \"eu\"", "\"weight\": 0"));
    await().atMost(Duration.ofSeconds(5)).until(() -> failures() >= 1);
    assertThat(backendIds()).as("the last good list").hasSize(2);

    Files.writeString(file, entries(two.port()));
    await().atMost(Duration.ofSeconds(5)).until(() -> backendIds().equals(List.of("127.0.0.1:" + two.port())));
    assertThat(get()).isEqualTo("two");
    assertThat(meridian.proxy().groups().get("app").backends().get(0).region()).isEqualTo("eu");
  }

  @Test
  void theBackendsThatStayKeepTheirHealthWhenTheFileChanges() throws Exception {
    try (TestBackend sick = TestBackend.start(r -> r.uri().startsWith("/healthz")
        ? TestBackend.Reply.status(503) : TestBackend.Reply.ok("sick"))) {
      Path file = dir.resolve("backends.json");
      Files.writeString(file, entries(one.port(), sick.port()));
      startMeridian("""
          health.active { interval = 10s, initial = unavailable, rise = 1, fall = 1 }
          regions.panic-threshold = 0.0
          """);
      Backend sickBackend = meridian.proxy().groups().get("app").find("127.0.0.1:" + sick.port());
      Backend oneBackend = meridian.proxy().groups().get("app").find("127.0.0.1:" + one.port());
      await().atMost(Duration.ofSeconds(5)).until(() -> meridian.health("app").isAvailable(oneBackend)
          && sick.requests().stream().anyMatch(r -> r.uri().startsWith("/healthz")));
      assertThat(meridian.health("app").isAvailable(sickBackend)).isFalse();

      Files.writeString(file, entries(one.port(), sick.port(), two.port()));
      await().atMost(Duration.ofSeconds(5)).until(() -> backendIds().size() == 3);

      assertThat(meridian.health("app").isAvailable(sickBackend)).as("the failing backend stays out").isFalse();
      assertThat(meridian.health("app").isAvailable(oneBackend)).as("the passing backend stays in").isTrue();
      for (int i = 0; i < 6; i++) {
        assertThat(get()).isIn("one", "two");
      }
      assertThat(sick.requests()).allSatisfy(r -> assertThat(r.uri()).startsWith("/healthz"));
    }
  }

  @Test
  void aRemovedHttp2BackendsConnectionIsClosedAndTheOtherKept() throws Exception {
    try (Http2TestBackend first = Http2TestBackend.start(null, 100);
        Http2TestBackend second = Http2TestBackend.start(null, 100)) {
      Path file = dir.resolve("backends.json");
      Files.writeString(file, entries(first.address().getPort()));
      startMeridian("protocol = h2c");
      assertThat(status()).isEqualTo(200);

      Files.writeString(file, entries(first.address().getPort(), second.address().getPort()));
      await().atMost(Duration.ofSeconds(5)).until(() -> backendIds().size() == 2);
      await().atMost(Duration.ofSeconds(5)).until(() -> {
        status();
        return second.openConnections() == 1;
      });
      assertThat(first.connections()).as("the backend that stayed keeps its connection").isEqualTo(1);

      Files.writeString(file, entries(second.address().getPort()));
      await().atMost(Duration.ofSeconds(5)).until(() -> backendIds().size() == 1);
      assertThat(status()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
          assertThat(first.openConnections()).as("the removed backend's HTTP/2 connection is closed").isZero());
      assertThat(second.connections()).isEqualTo(1);
    }
  }

  /** Writes the content beside the file, then moves it over the file in one step. */
  private static void replace(Path file, String content) throws Exception {
    Path next = Files.writeString(file.resolveSibling(file.getFileName() + ".next"), content);
    Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private int status() throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + meridian.listenerAddresses().get(0).getPort() + "/");
    return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void aBrokenFileIsReportedWithFileLineAndKey() throws Exception {
    Path file = dir.resolve("backends.conf");
    Files.writeString(file, "backends = [\n  { address = \"127.0.0.1:" + one.port() + "\" }\n]\n");
    List<String> reports = new CopyOnWriteArrayList<>();
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    FileBackendSource source = new FileBackendSource(new BackendSourceSettings.File("t", file, "default"), executor,
        Duration.ofMillis(50));
    try {
      source.start(new BackendSource.Listener() {
        @Override
        public void found(List<BackendSettings> backends) {
          reports.add("found " + backends.stream().map(BackendSettings::id).toList());
        }

        @Override
        public void failed(String reason) {
          reports.add("failed " + reason);
        }
      });
      await().atMost(Duration.ofSeconds(5)).until(() -> reports.size() == 1);
      // Replaced whole (as a deployment tool does), so no poll reads it half written: a truncated
      // file is a broken one too, and would be one more report.
      replace(file, "backends = [\n  { address = \"127.0.0.1:" + one.port() + "\",\n    weight = -1 }\n]\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> reports.size() == 2);

      assertThat(reports.get(0)).isEqualTo("found [127.0.0.1:" + one.port() + "]");
      assertThat(reports.get(1)).startsWith("failed refused:").contains(file + ": 3: backends[0].weight:");
    } finally {
      source.close();
      executor.shutdownNow();
    }
  }
}
