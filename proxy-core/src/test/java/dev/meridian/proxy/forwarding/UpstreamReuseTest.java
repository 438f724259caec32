package dev.meridian.proxy.forwarding;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.RawTcpBackend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An upstream connection goes back to the pool only when nothing the backend sent is left over: bytes
 * after a response's end (a body on a HEAD or 304 answer, more than the Content-Length, a partial
 * line that looks like the start of a response) must never be read as the next request's response,
 * which may be another client's. And a response whose body ended with the backend's close leaves the
 * client's connection serving its next request.
 */
class UpstreamReuseTest {
  /** A forged response, cut off mid-line, as a hostile or broken backend might append to an answer. */
  private static final String FORGED = "HTTP/1.1 302 Found\r\nLocation: http://evil.example/\r\n"
      + "Set-Cookie: session=attacker\r\nX-Ignore: ";

  static Stream<Arguments> leftovers() {
    return Stream.of(
        Arguments.of("a body on a HEAD answer", "HEAD",
            "HTTP/1.1 200 OK\r\nContent-Length: 92\r\n\r\n" + FORGED),
        Arguments.of("a body on a 304", "GET",
            "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n" + FORGED),
        Arguments.of("more than the Content-Length", "GET",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + FORGED),
        Arguments.of("bytes after the last chunk", "GET",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" + FORGED),
        Arguments.of("a few stray bytes after a HEAD answer", "HEAD",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("leftovers")
  void leftoverBytesNeverAnswerTheNextRequest(String shape, String method, String poisoned) throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> serve(socket, poisoned));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      try (RawHttpClient first = proxy.connect()) {
        first.send(method + " /poison HTTP/1.1\r\nHost: app.test\r\n\r\n");
        RawResponse answer = first.readResponse("HEAD".equals(method));
        assertThat(answer.status()).as(shape).isIn(200, 304);
      }
      // Another client, then the same one twice: each gets its own backend's answer.
      try (RawHttpClient victim = proxy.connect()) {
        for (int i = 0; i < 3; i++) {
          victim.send("GET /victim" + i + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
          RawResponse answer = victim.readResponse();
          assertThat(answer.status()).as(shape + ", request " + i).isEqualTo(200);
          assertThat(answer.header("Location")).as(shape).isNull();
          assertThat(answer.header("Set-Cookie")).as(shape).isNull();
          assertThat(answer.bodyText()).as(shape).isEqualTo("real /victim" + i);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("closeDelimited")
  void aResponseEndedByTheBackendsCloseLeavesTheClientServed(String shape, String response) throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> answerThenClose(socket, response));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      for (int i = 0; i < 3; i++) {
        client.send("GET /" + i + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
        RawResponse answer = client.readResponse();
        assertThat(answer.status()).as(shape + ", request " + i).isEqualTo(200);
        assertThat(answer.bodyText()).as(shape + ", request " + i).isEqualTo("until close");
      }
    }
  }

  static Stream<Arguments> closeDelimited() {
    return Stream.of(
        Arguments.of("no framing, no Connection: close", "HTTP/1.1 200 OK\r\n\r\nuntil close"),
        Arguments.of("HTTP/1.0 without a length", "HTTP/1.0 200 OK\r\n\r\nuntil close"));
  }

  /**
   * Answers each request on a persistent connection: the poisoned answer for {@code /poison}, else a
   * response naming the request's path.
   */
  private static void serve(Socket socket, String poisoned) throws IOException {
    InputStream in = socket.getInputStream();
    OutputStream out = socket.getOutputStream();
    try {
      while (true) {
        String head = RawTcpBackend.readHead(in);
        if (head == null || head.isEmpty()) {
          return;
        }
        String target = head.split(" ", 3)[1];
        String body = "real " + target;
        String answer = target.equals("/poison") ? poisoned
            : "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        out.write(answer.getBytes(US_ASCII));
        out.flush();
      }
    } catch (java.io.EOFException | SocketException closed) {
      // the proxy closed the connection it would not reuse
    }
  }

  private static void answerThenClose(Socket socket, String response) throws IOException {
    RawTcpBackend.readHead(socket.getInputStream());
    socket.getOutputStream().write(response.getBytes(US_ASCII));
    socket.getOutputStream().flush();
    socket.close();
  }
}
