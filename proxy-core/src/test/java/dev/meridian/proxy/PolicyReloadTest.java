package dev.meridian.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload puts headers, timeouts and limits in force for requests and connections that start after
 * it; a connection open across the reload sees the new headers and timeouts on its next request.
 */
class PolicyReloadTest {

  private static String config(int backendPort, String via, String responseTimeout, int maxHeaderCount) {
    return "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { enabled = false }\n"
        + "  headers { via = \"" + via + "\", request-id-header = \"X-Trace-" + via + "\" }\n"
        + "  timeouts { response-headers = " + responseTimeout + " }\n"
        + "  limits { max-header-count = " + maxHeaderCount + " }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + backendPort + "\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n";
  }

  private static RawHttpClient.RawResponse get(RawHttpClient client, String path) throws Exception {
    return client.send("GET " + path + " HTTP/1.1\r\nHost: app.test\r\n\r\n").readResponse();
  }

  /**
   * Two groups, one backend each, and one route to {@code routed}: the other group keeps its backend
   * (a backend no group names any more has its idle connections closed at the reload).
   */
  private static String pooled(int firstPort, int secondPort, String routed, String upstreamIdle) {
    return "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { enabled = false }\n"
        + "  timeouts { upstream-idle = " + upstreamIdle + " }\n"
        + "  backend-groups { first { backends = [ { address = \"127.0.0.1:" + firstPort + "\" } ] }\n"
        + "    second { backends = [ { address = \"127.0.0.1:" + secondPort + "\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"" + routed + "\" } ]\n"
        + "}\n";
  }

  /** A request with {@code count} header fields in all (Host among them). */
  private static String manyHeaders(int count) {
    StringBuilder request = new StringBuilder("GET /many HTTP/1.1\r\nHost: app.test\r\n");
    for (int i = 1; i < count; i++) {
      request.append("X-Field-").append(i).append(": ").append(i).append("\r\n");
    }
    return request.append("\r\n").toString();
  }

  /**
   * Upstream pooling settings apply to upstream connections opened after the reload: one opened
   * under the new 300 ms upstream-idle is closed when idle, while the one opened before keeps 60 s.
   */
  @Test
  void upstreamIdleTimeoutAppliesToNewUpstreamConnections(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("meridian.conf");
    try (TestBackend before = TestBackend.start(TestBackend.ok("before"));
        TestBackend after = TestBackend.start(TestBackend.ok("after"))) {
      Files.writeString(file, pooled(before.port(), after.port(), "first", "60s"));
      MeridianInstance instance = new MeridianInstance(SettingsLoader.load(file)).start();
      try (ConfigReloader reloader = new ConfigReloader(file, instance);
          RawHttpClient client = RawHttpClient.connect(instance.listenerAddresses().get(0))) {
        assertThat(get(client, "/").bodyText()).isEqualTo("before");

        Files.writeString(file, pooled(before.port(), after.port(), "second", "300ms"));
        assertThat(reloader.reload().applied()).isTrue();

        assertThat(get(client, "/").bodyText()).isEqualTo("after");
        assertThat(after.connectionCount()).isEqualTo(1);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
            .until(() -> after.openConnectionCount() == 0);
        assertThat(before.openConnectionCount()).as("opened before the reload: idle for up to 60 s").isEqualTo(1);
      } finally {
        instance.stop(Duration.ZERO);
      }
    }
  }

  @Test
  void headersTimeoutsAndLimitsTakeEffectForNewRequests(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("meridian.conf");
    try (TestBackend backend = TestBackend.start(request -> request.uri().equals("/slow")
        ? TestBackend.Reply.ok("slow").delay(Duration.ofMillis(700)) : TestBackend.Reply.ok("fast"))) {
      Files.writeString(file, config(backend.port(), "edge-a", "5s", 100));
      MeridianInstance instance = new MeridianInstance(SettingsLoader.load(file)).start();
      try (ConfigReloader reloader = new ConfigReloader(file, instance);
          RawHttpClient open = RawHttpClient.connect(instance.listenerAddresses().get(0))) {
        RawHttpClient.RawResponse before = get(open, "/");
        assertThat(before.header("via")).isEqualTo("1.1 edge-a");
        assertThat(before.header("x-trace-edge-a")).isNotEmpty();
        assertThat(get(open, "/slow").status()).isEqualTo(200);
        try (RawHttpClient client = RawHttpClient.connect(instance.listenerAddresses().get(0))) {
          assertThat(client.send(manyHeaders(20)).readResponse().status()).isEqualTo(200);
        }

        Files.writeString(file, config(backend.port(), "edge-b", "200ms", 10));
        assertThat(reloader.reload().applied()).isTrue();

        RawHttpClient.RawResponse after = get(open, "/");
        assertThat(after.header("via")).as("the same connection's next request").isEqualTo("1.1 edge-b");
        assertThat(after.header("x-trace-edge-b")).isNotEmpty();
        assertThat(after.header("x-trace-edge-a")).isNull();
        RawHttpClient.RawResponse slow = get(open, "/slow");
        assertThat(slow.status()).as("timeouts.response-headers is 200ms now").isEqualTo(504);
        try (RawHttpClient client = RawHttpClient.connect(instance.listenerAddresses().get(0))) {
          assertThat(client.send(manyHeaders(20)).readResponse().status())
              .as("limits.max-header-count is 10 on a new connection").isEqualTo(431);
        }
      } finally {
        instance.stop(Duration.ZERO);
      }
    }
  }
}
