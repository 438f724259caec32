package dev.meridian.proxy.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The leak detection extension catches a leaked buffer, and the HTTP test fixtures talk to each other. */
class LeakDetectionTest {

  @Test
  void recordsALeakedBuffer() {
    ResourceLeakDetector.Level previous = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    try {
      assertThat(LeakDetection.isRecordingByteBufLeaks())
          .as("the recording factory was installed before the first ByteBuf allocation")
          .isTrue();

      leakOneBuffer();

      await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
          assertThat(LeakDetection.collectLeaks()).anySatisfy(report ->
              assertThat(report).contains("LEAK").contains("leakOneBuffer")));
    } finally {
      LeakDetection.clear(report -> report.contains("leakOneBuffer"));
      ResourceLeakDetector.setLevel(previous);
    }
  }

  /** Allocates a buffer and drops it unreleased; a method of its own so nothing keeps it reachable. */
  private static void leakOneBuffer() {
    ByteBuf leaked = ByteBufAllocator.DEFAULT.buffer(16);
    leaked.writeLong(42);
  }

  @Test
  void rawClientTalksToTestBackendOverKeepAlive() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("hello"));
        RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.send("GET /a?x=1 HTTP/1.1\r\nHost: test\r\nX-Request-Id: r-1\r\n\r\n");
      RawHttpClient.RawResponse first = client.readResponse();
      client.send("HEAD /b HTTP/1.1\r\nHost: test\r\n\r\n");
      RawHttpClient.RawResponse head = client.readResponse(true);

      assertThat(first.status()).isEqualTo(200);
      assertThat(first.reason()).isEqualTo("OK");
      assertThat(first.bodyText()).isEqualTo("hello");
      assertThat(first.header("CONTENT-LENGTH")).isEqualTo("5");
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.body()).isEmpty();
      assertThat(head.header("content-length")).isEqualTo("5");

      List<TestBackend.Request> requests = backend.requests();
      assertThat(requests).extracting(TestBackend.Request::method, TestBackend.Request::uri)
          .containsExactly(tuple("GET", "/a?x=1"),
              tuple("HEAD", "/b"));
      assertThat(requests.get(0).header("x-request-id")).isEqualTo("r-1");
      assertThat(requests).extracting(TestBackend.Request::connectionId).containsOnly(1);
      assertThat(backend.connectionCount()).isEqualTo(1);
      assertThat(client.isClosedByPeer(Duration.ofMillis(50))).isFalse();
    }
  }

  @Test
  void testBackendEchoesAndClosesWhenAsked() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.send("GET / HTTP/1.1\r\nHost: test\r\nX-Thing: one\r\nConnection: close\r\n\r\n");
      RawHttpClient.RawResponse response = client.readResponse();

      assertThat(response.bodyText()).contains("host: test\n").contains("x-thing: one\n");
      assertThat(response.header("connection")).isEqualTo("close");
      assertThat(client.isClosedByPeer()).isTrue();
    }
  }

  @Test
  void rawClientReadsChunkedBodyAndTrailersFromRawBackend() throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
      String head = RawTcpBackend.readHead(socket.getInputStream());
      assertThat(head).startsWith("GET /chunked HTTP/1.1\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
          + "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Checksum: abc\r\n\r\n").getBytes(US_ASCII));
      out.flush();
    }); RawHttpClient client = RawHttpClient.connect(backend.port())) {
      client.send("GET /chunked HTTP/1.1\r\nHost: test\r\n\r\n");
      RawHttpClient.RawResponse response = client.readResponse();

      assertThat(response.bodyText()).isEqualTo("hello, world");
      assertThat(response.trailer("x-checksum")).isEqualTo("abc");
      assertThat(client.isClosedByPeer()).isTrue();
      assertThat(backend.connectionCount()).isEqualTo(1);
      assertThat(backend.bytesReceived()).isEqualTo("GET /chunked HTTP/1.1\r\nHost: test\r\n\r\n".length());
      assertThat(backend.errors()).isEmpty();
    }
  }
}
