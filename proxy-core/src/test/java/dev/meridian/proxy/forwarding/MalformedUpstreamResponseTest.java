package dev.meridian.proxy.forwarding;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.RawTcpBackend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A backend's response whose framing a client could read differently than Meridian does is never
 * relayed as if it were whole: before the response starts it is a 502, after it the client's
 * connection is cut off so the client sees a truncated response rather than a complete-looking one.
 */
class MalformedUpstreamResponseTest {

  static Stream<Arguments> malformedHeads() {
    return Stream.of(
        Arguments.of("Content-Length with Transfer-Encoding",
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        Arguments.of("a transfer coding other than chunked (its coding would be lost)",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nnot gzip at all"),
        Arguments.of("gzip before chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        Arguments.of("chunked twice",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        Arguments.of("Transfer-Encoding in an HTTP/1.0 response",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        Arguments.of("two Content-Length headers",
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
        Arguments.of("obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("bare LF line ending", "HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
        Arguments.of("a control byte in a value", "HTTP/1.1 200 OK\r\nX-A: a\u0001b\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("NUL in a value", "HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("a bare CR in a value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("a status that is not three digits", "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("no status line at all", "hello there\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("a status above 599", "HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("an HTTP/2.0 status line on an HTTP/1 connection", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("a Content-Length that is not a number", "HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc"),
        Arguments.of("header fields over 64 KiB",
            "HTTP/1.1 200 OK\r\n" + "X-Big: " + "b".repeat(70 * 1024) + "\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("a flood of interim responses",
            "HTTP/1.1 100 Continue\r\n\r\n".repeat(40) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedHeads")
  void malformedResponseHeadIs502(String shape, String response) throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> answer(socket, response));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("debug-headers = true").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse answer = client.readResponse();
      while (answer.status() == 100) { // interim responses relayed before the flood was refused
        answer = client.readResponse();
      }
      assertThat(answer.status()).as(shape).isEqualTo(502);
      assertThat(answer.bodyText()).as(shape).contains("malformed response");
      assertThat(proxy.metrics().registry().find("meridian.upstream.failures").tag("kind", "protocol")
          .counter().count()).as(shape + ": counted").isEqualTo(1);
    }
  }

  @Test
  void badChunkAfterTheResponseStartedCutsTheClientOff() throws Exception {
    String response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore";
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> answer(socket, response));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      // The chunked body the client reads never reaches its last chunk: the connection closes first.
      assertThatThrownBy(client::readResponse).isInstanceOf(IOException.class);
      assertThat(client.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
    }
  }

  /** Reads the request head, writes the scripted response, and holds the connection until the proxy closes it. */
  private static void answer(java.net.Socket socket, String response) throws IOException {
    InputStream in = socket.getInputStream();
    OutputStream out = socket.getOutputStream();
    RawTcpBackend.readHead(in);
    out.write(response.getBytes(US_ASCII));
    out.flush();
    socket.setSoTimeout(5000);
    try {
      while (in.read() >= 0) {
        // discard until the proxy closes
      }
    } catch (java.net.SocketTimeoutException | java.net.SocketException done) {
      // the deadline passed or the proxy reset the connection
    }
  }
}
