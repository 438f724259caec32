package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.http.GrpcLocalAnswers;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gRPC call Meridian answers itself gets a Trailers-Only answer with the grpc-status gRPC's HTTP
 * mapping gives (here: a backend that refuses, 503 UNAVAILABLE), as Envoy answers, read with curl
 * over HTTP/2; the access log keeps the HTTP status it stands for. Other requests keep plain text.
 */
class GrpcLocalAnswerTest {
  @TempDir
  Path dir;

  private static int refusingPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String curl(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("curl", "-s", "-D", "-", "-o", "/dev/null",
        "--max-time", "20", "--http2-prior-knowledge"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out.toLowerCase(Locale.ROOT);
  }

  private static boolean curlInstalled() {
    try {
      return new ProcessBuilder("curl", "--version").start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  @Test
  void aGrpcCallMeridianAnswersGetsAGrpcStatus() throws Exception {
    assumeTrue(curlInstalled(), "curl is installed by .ci/run");
    int refusing = refusingPort();
    try (ProxyFixture proxy = ProxyFixture.start(List.of(refusing), """
        meridian.backend-groups.app.backends = [ { id = "b1", address = "127.0.0.1:%d" } ]
        meridian.access-log { enabled = true, output = "%s" }
        """.formatted(refusing, dir.resolve("access.log")))) {
      String url = "http://127.0.0.1:" + proxy.port() + "/pkg.Svc/Call";
      String grpc = curl("-H", "content-type: application/grpc", "-H", "te: trailers", "--data-binary", "", url);
      assertThat(grpc).startsWith("http/2 200").contains("content-type: application/grpc")
          .contains("grpc-status: 14").contains("grpc-message: ").contains("x-request-id: ");
      String plain = curl(url);
      assertThat(plain).as("not a gRPC call: the plain answer").startsWith("http/2 5").doesNotContain("grpc-status");
      List<String> lines = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
          .until(() -> Files.readAllLines(dir.resolve("access.log")), l -> l.size() >= 2);
      JsonNode first = new ObjectMapper().readTree(lines.get(0));
      assertThat(first.get("status").asInt()).as("logged as what it stands for").isBetween(502, 503);
    }
  }

  @Test
  void httpStatusesMapAsGrpcSays() {
    assertThat(GrpcLocalAnswers.grpcStatus(503)).isEqualTo(14);
    assertThat(GrpcLocalAnswers.grpcStatus(504)).isEqualTo(14);
    assertThat(GrpcLocalAnswers.grpcStatus(429)).isEqualTo(14);
    assertThat(GrpcLocalAnswers.grpcStatus(404)).isEqualTo(12);
    assertThat(GrpcLocalAnswers.grpcStatus(408)).isEqualTo(4);
    assertThat(GrpcLocalAnswers.grpcStatus(400)).isEqualTo(13);
    assertThat(GrpcLocalAnswers.grpcStatus(418)).isEqualTo(2);
    assertThat(GrpcLocalAnswers.isGrpc(new io.netty.handler.codec.http.DefaultHttpHeaders()
        .set("content-type", "application/grpc+proto"))).isTrue();
    assertThat(GrpcLocalAnswers.isGrpc(new io.netty.handler.codec.http.DefaultHttpHeaders()
        .set("content-type", "application/grpc-web"))).as("gRPC-Web speaks HTTP/1 statuses").isFalse();
  }
}
