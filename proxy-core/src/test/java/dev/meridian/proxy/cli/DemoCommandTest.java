package dev.meridian.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code meridian demo} in a child JVM: prints where it listens, answers through the proxy, exits 0 on SIGTERM. */
class DemoCommandTest {
  private static final Pattern PROXY_URL = Pattern.compile("^\\s*proxy\\s+(http://127\\.0\\.0\\.1:\\d+/)");

  @TempDir Path dir;

  @Test
  void demoAnswersThroughTheProxyAndExitsZeroOnSigterm() throws Exception {
    try (CliProcess demo = CliProcess.start(dir, "demo", "--port", "0", "--admin-port", "0", "--tls-port", "0")) {
      Matcher url = demo.awaitLine(PROXY_URL, Duration.ofSeconds(20));
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url.group(1)))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).startsWith("hello from");
      assertThat(demo.terminate(Duration.ofSeconds(15))).as("exit code; %s", demo).isZero();
      assertThat(demo.stdout()).contains("meridian demo: stopping");
    }
  }
}
