package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawTcpBackend;
import dev.meridian.proxy.testing.TrustingSsl;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client that closes its side while its answer is awaited has left: over TLS, over HTTP/2, and
 * over cleartext HTTP/1 with {@code limits.abort-on-client-close}, its request is abandoned at once,
 * its backend connection closed, and its access log line says 499 (a long poll held its backend for
 * as long as the backend took, and was logged as delivered). A cleartext half-close without the
 * setting is still answered ({@code EdgeInputTest}).
 */
class ClientLeavesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  /** A backend that takes a request and never answers, noting when the proxy closes the connection. */
  private static RawTcpBackend holding(CompletableFuture<Long> closedAt) throws Exception {
    return RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      RawTcpBackend.readHead(in);
      while (in.read() >= 0) {
        // nothing comes after a GET: the proxy's close ends this
      }
      closedAt.complete(System.nanoTime());
    });
  }

  private ProxyFixture start(int backendPort, String extra) throws Exception {
    return ProxyFixture.start(List.of(backendPort), """
        meridian.backend-groups.app.backends = [ { id = "b1", address = "127.0.0.1:%d" } ]
        meridian.access-log { enabled = true, output = "%s" }
        """.formatted(backendPort, dir.resolve("access.log")) + extra);
  }

  /** Waits for the backend to see its connection closed soon after the client left, and the 499 line. */
  private void assertAbandoned(CompletableFuture<Long> backendClosedAt, long leftAt) throws Exception {
    long closed = backendClosedAt.get(10, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(closed - leftAt)).as("the backend freed at once, not when it answers")
        .isLessThan(Duration.ofSeconds(3));
    List<String> lines = await().atMost(Duration.ofSeconds(10)).until(
        () -> Files.exists(dir.resolve("access.log")) ? Files.readAllLines(dir.resolve("access.log")) : List.<String>of(),
        l -> !l.isEmpty());
    JsonNode line = JSON.readTree(lines.get(0));
    assertThat(line.get("status").asInt()).as("%s", line).isEqualTo(499);
    assertThat(line.get("path").asText()).isEqualTo("/poll");
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aTlsClientThatClosesItsSideHasLeft(boolean closeNotify) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir.resolve("cert"));
    CompletableFuture<Long> backendClosedAt = new CompletableFuture<>();
    try (RawTcpBackend backend = holding(backendClosedAt);
        ProxyFixture proxy = start(backend.port(), """
            meridian.listeners = [ { name = "tls", address = "127.0.0.1:0", tls { certificates = [
              { cert = "%s", key = "%s" } ] } } ]
            """.formatted(cert.cert(), cert.key()));
        Socket tcp = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        SSLSocket tls = (SSLSocket) TrustingSsl.trusting(cert).getSocketFactory().createSocket(tcp, "localhost", proxy.port(), false)) {
      tls.setSoTimeout(10_000);
      tls.startHandshake();
      OutputStream out = tls.getOutputStream();
      out.write("GET /poll HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.bytesReceived() > 0);
      long left = System.nanoTime();
      if (closeNotify) {
        tls.shutdownOutput(); // close_notify (the TCP socket under it stays open)...
      }
      tcp.shutdownOutput(); // ...then the TCP FIN; alone, it is a process that exits without closing TLS
      assertAbandoned(backendClosedAt, left);
    }
  }

  @Test
  void anHttp2ClientThatClosesItsSideHasLeft() throws Exception {
    CompletableFuture<Long> backendClosedAt = new CompletableFuture<>();
    try (RawTcpBackend backend = holding(backendClosedAt);
        ProxyFixture proxy = start(backend.port(), "");
        RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      h2.get(1, "/poll");
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.bytesReceived() > 0);
      long left = System.nanoTime();
      h2.shutdownOutput();
      assertAbandoned(backendClosedAt, left);
    }
  }

  @Test
  void aCleartextClientThatClosesItsSideHasLeftWhenTheSettingSaysSo() throws Exception {
    CompletableFuture<Long> backendClosedAt = new CompletableFuture<>();
    try (RawTcpBackend backend = holding(backendClosedAt);
        ProxyFixture proxy = start(backend.port(), "meridian.limits.abort-on-client-close = true\n");
        Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
      client.getOutputStream().write("GET /poll HTTP/1.1\r\nHost: app.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.bytesReceived() > 0);
      long left = System.nanoTime();
      client.shutdownOutput();
      assertAbandoned(backendClosedAt, left);
    }
  }
}
