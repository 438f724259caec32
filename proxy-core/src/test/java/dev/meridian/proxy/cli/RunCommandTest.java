package dev.meridian.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
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
      Path config = Files.writeString(dir.resolve("meridian.conf"), """
          meridian {
            listeners = [ { name = "web", address = "127.0.0.1:0" } ]
            admin { enabled = false }
            server { event-loop-threads = 1, drain-timeout = 5s }
            backend-groups { app { backends = [ { address = "127.0.0.1:%d" } ] } }
            routes = [ { name = "all", path-prefix = "/", backend-group = "app" } ]
          }
          """.formatted(backend.port()));

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
      }
    }
  }
}
