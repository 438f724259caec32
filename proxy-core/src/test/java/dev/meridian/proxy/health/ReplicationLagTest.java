package dev.meridian.proxy.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestBackend.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Replication lag end to end: the active check reads {@code X-Replication-Lag} from each backend's
 * health path; a backend over the limit is skipped for reads and still takes writes in the writer region.
 */
class ReplicationLagTest {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final AtomicReference<String> lagB = new AtomicReference<>("30");
  private TestBackend a;
  private TestBackend b;
  private MeridianInstance proxy;

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
  }

  private static TestBackend backend(String name, AtomicReference<String> lag) {
    return TestBackend.start(request -> request.uri().startsWith("/healthz")
        ? Reply.status(200).header("X-Replication-Lag", lag.get())
        : Reply.ok(name));
  }

  private void startProxy() throws Exception {
    a = backend("a", new AtomicReference<>("0.2"));
    b = backend("b", lagB);
    String hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  backend-groups { app {\n"
        + "    backends = [\n"
        + "      { id = \"a\", address = \"127.0.0.1:" + a.port() + "\", region = \"us-east\" },\n"
        + "      { id = \"b\", address = \"127.0.0.1:" + b.port() + "\", region = \"us-east\" } ]\n"
        + "    regions { failover { default = [us-east] }, writer = \"us-east\" }\n"
        + "    health {\n"
        + "      active { path = \"/healthz\", interval = 100ms, timeout = 1s }\n"
        + "      replication-lag { header = \"X-Replication-Lag\", max = 5s }\n"
        + "    }\n"
        + "  } }\n"
        + "  routes = [ { backend-group = \"app\" } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "replication-lag-test")).start();
  }

  /** Sends n requests of this method and counts the answering backends. */
  private Map<String, Integer> spread(String method, int n) throws Exception {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                  + proxy.listenerAddresses().get(0).getPort() + "/items"))
              .method(method, method.equals("GET") ? HttpRequest.BodyPublishers.noBody()
                  : HttpRequest.BodyPublishers.ofString("x"))
              .timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("%s %d: %s", method, i, r.body()).isEqualTo(200);
      counts.merge(r.body(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void lagAboveTheLimitTakesTheBackendOutOfReadsOnly() throws Exception {
    startProxy();
    await().atMost(Duration.ofSeconds(5)).until(() -> AdminBackends.of(proxy).replicationLagMillis("b") == 30_000
        && AdminBackends.of(proxy).replicationLagMillis("a") == 200);
    AdminBackends admin = AdminBackends.of(proxy);
    assertThat(admin.available("b")).as("lagging is not down").isTrue();

    assertThat(spread("GET", 20)).containsOnlyKeys("a");
    assertThat(spread("POST", 20)).containsEntry("a", 10).containsEntry("b", 10);

    lagB.set("1.5");
    await().atMost(Duration.ofSeconds(5)).until(() -> AdminBackends.of(proxy).replicationLagMillis("b") == 1_500);
    assertThat(spread("GET", 20)).containsEntry("a", 10).containsEntry("b", 10);
  }

  /**
   * PUT and DELETE are writes (reference.conf: the writer region takes "POST, PUT, PATCH, DELETE"), so a
   * lagging backend still takes them. Idempotent is not the same as read-only.
   */
  @Test
  void putAndDeleteAreWritesAndStillReachALaggingBackend() throws Exception {
    startProxy();
    await().atMost(Duration.ofSeconds(5)).until(() -> AdminBackends.of(proxy).replicationLagMillis("b") == 30_000);
    assertThat(spread("PATCH", 10)).containsEntry("a", 5).containsEntry("b", 5);
    assertThat(spread("PUT", 10)).containsEntry("a", 5).containsEntry("b", 5);
    assertThat(spread("DELETE", 10)).containsEntry("a", 5).containsEntry("b", 5);
  }

  @Test
  void unreadableLagCountsAsCaughtUp() throws Exception {
    lagB.set("soon");
    startProxy();
    await().atMost(Duration.ofSeconds(5)).until(() -> AdminBackends.of(proxy).replicationLagMillis("a") == 200);
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
        .until(() -> AdminBackends.of(proxy).replicationLagMillis("b") == -1);
    assertThat(spread("GET", 20)).containsEntry("a", 10).containsEntry("b", 10);
  }
}
