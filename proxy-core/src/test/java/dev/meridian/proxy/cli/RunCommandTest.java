package dev.meridian.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meridian run -c FILE} in a child JVM: proxies to the configured backend, drains and exits 0 on SIGTERM. */
class RunCommandTest {
  private static final Pattern RUNNING = Pattern.compile("^meridian running: \\[[^\\]]*?:(\\d+)[,\\]]");

  @TempDir Path dir;

  @Test
  void runProxiesToTheConfiguredBackendAndExitsZeroOnSigterm() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("from the backend"))) {
      Path config = Files.writeString(dir.resolve("meridian.conf"), config(backend.port()));

      try (CliProcess run = CliProcess.start(dir, "run", "-c", config.toString())) {
        Matcher running = run.awaitLine(RUNNING, Duration.ofSeconds(20));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        HttpResponse<String> response = http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + running.group(1) + "/hello"))
                .timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("from the backend");
        assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/hello");
        assertThat(run.terminate(Duration.ofSeconds(15))).as("exit code; %s", run).isZero();
        assertThat(run.stdout()).anySatisfy(line -> assertThat(line).startsWith("meridian: SIGTERM received"))
            .contains("meridian: drained, bye");
        // As the jar runs: Netty counts its direct buffers, so a full direct memory fails an
        // allocation at once rather than stalling the event loop (MeridianCli sets the property).
        assertThat(run.stderr()).contains("counted by Netty (an allocation over it fails at once)")
            .as("the drain's start and end are in the log too").contains("SIGTERM received: draining for up to")
            .contains("drained: every connection ended; exiting");
      }
    }
  }

  /**
   * SIGUSR1, as logrotate sends it to nginx, reopens the access log: after the file was moved away,
   * new lines go to a new file at its path, and the process goes on serving.
   */
  @Test
  void sigusr1ReopensTheAccessLogAfterItWasMoved() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("ok"))) {
      Path accessLog = dir.resolve("access.log");
      Path config = Files.writeString(dir.resolve("meridian.conf"), config(backend.port()).replace(
          "  admin { enabled = false }", "  admin { enabled = false }\n  access-log { enabled = true, output = \"access.log\" }"));
      try (CliProcess run = CliProcess.start(dir, "run", "-c", config.toString())) {
        String port = run.awaitLine(RUNNING, Duration.ofSeconds(20)).group(1);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        get(http, port, "/before");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(accessLog)
            && Files.readString(accessLog).contains("/before"));
        Path rotated = Files.move(accessLog, dir.resolve("access.log.1"));

        run.signal("USR1");
        await().atMost(Duration.ofSeconds(10)).until(() -> run.stderr().contains("log files reopened"));
        get(http, port, "/after");

        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(accessLog)
            && Files.readString(accessLog).contains("/after"));
        assertThat(Files.readString(accessLog)).doesNotContain("/before");
        assertThat(Files.readString(rotated)).contains("/before").doesNotContain("/after");
        assertThat(run.terminate(Duration.ofSeconds(15))).as("exit code; %s", run).isZero();
      }
    }
  }

  private static void get(HttpClient http, String port, String path) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
  }

  private static String config(int backendPort) {
    return """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:0" } ]
          admin { enabled = false }
          server { event-loop-threads = 1, drain-timeout = 5s }
          backend-groups { app { backends = [ { address = "127.0.0.1:%d" } ] } }
          routes = [ { name = "all", path-prefix = "/", backend-group = "app" } ]
        }
        """.formatted(backendPort);
  }

  /**
   * Rewrites the file so that its watch cannot tell (same size and modification time): only SIGHUP
   * makes the process read it.
   */
  private static void rewriteUnseen(Path file, String text) throws Exception {
    FileTime modified = Files.getLastModifiedTime(file);
    long size = Files.size(file);
    StringBuilder padded = new StringBuilder(text);
    while (padded.length() < size) {
      padded.append(' ');
    }
    assertThat((long) padded.length()).as("the same size").isEqualTo(size);
    Files.writeString(file, padded);
    Files.setLastModifiedTime(file, modified);
  }

  private static String body(HttpClient http, String port) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void sighupReloadsTheFileAndABrokenFileIsRefusedUntilItIsFixed() throws Exception {
    try (TestBackend first = TestBackend.start(TestBackend.ok("first"));
        TestBackend second = TestBackend.start(TestBackend.ok("second"))) {
      String one = config(first.port());
      String two = config(second.port());
      String longest = one.length() >= two.length() ? one : two;
      Path config = Files.writeString(dir.resolve("meridian.conf"), longest + " ".repeat(64));
      rewriteUnseen(config, one);
      try (CliProcess run = CliProcess.start(dir, "run", "-c", config.toString())) {
        String port = run.awaitLine(RUNNING, Duration.ofSeconds(20)).group(1);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThat(body(http, port)).isEqualTo("first");

        rewriteUnseen(config, two);
        run.hangup();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(body(http, port)).isEqualTo("second"));
        // (The new routing serves before the reload's lines are written: wait for them.)
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(run.stderr()).contains("reloaded (SIGHUP)").doesNotContain("class loader"));

        rewriteUnseen(config, one.replace("path-prefix", "path-prefx"));
        run.hangup();
        await().atMost(Duration.ofSeconds(10)).until(() -> run.stderr().contains("the new configuration was refused"));
        assertThat(run.stderr()).contains("meridian.conf: 6: meridian.routes[0].path-prefx");
        assertThat(body(http, port)).as("the configuration in force keeps serving").isEqualTo("second");

        rewriteUnseen(config, one);
        run.hangup();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(body(http, port)).isEqualTo("first"));
        assertThat(run.terminate(Duration.ofSeconds(15))).as("exit code; %s", run).isZero();
      }
    }
  }
}
