package dev.meridian.proxy.forwarding;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.RawTcpBackend;
import dev.meridian.proxy.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Request heads over the limits, slow heads, and request smuggling shapes: answered locally, never forwarded. */
class LimitsTest {

  /** A backend that reads whatever it is sent until the proxy closes, and answers nothing. */
  private static RawTcpBackend sink() throws IOException {
    return RawTcpBackend.start(socket -> socket.getInputStream().readAllBytes());
  }

  /** Sends {@code raw}, reads the one response, and checks the connection then closes and nothing was forwarded. */
  private static RawResponse rejected(String raw, String... overrides) throws Exception {
    try (RawTcpBackend backend = sink()) {
      ForwardingProxy config = ForwardingProxy.to(backend.address());
      for (String override : overrides) {
        config.set(override);
      }
      try (ForwardingProxy proxy = config.start(); RawHttpClient client = proxy.connect()) {
        client.send(raw);
        RawResponse response = client.readResponse();

        assertThat(client.isClosedByPeer()).as("connection closed after %s", response.status()).isTrue();
        assertThat(backend.connectionCount()).as("connections to the backend").isZero();
        assertThat(backend.bytesReceived()).as("bytes the backend received").isZero();
        return response;
      }
    }
  }

  @Test
  void aBodyDeclaredLargerThanTheLimitGets413BeforeAnyBackendSeesIt() throws Exception {
    RawResponse response = rejected("POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2000\r\n\r\n"
        + "x".repeat(2000), "limits.max-request-body = 1000");
    assertThat(response.status()).isEqualTo(413);
    assertThat(response.bodyText()).contains("limits.max-request-body");

    RawResponse expecting = rejected("POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2000\r\n"
        + "Expect: 100-continue\r\n\r\n", "limits.max-request-body = 1000");
    assertThat(expecting.status()).as("413, not 100 Continue").isEqualTo(413);
  }

  /**
   * A chunked body that grows past the limit: the backend never sees it end (its connection closes
   * before the last chunk) and the client gets 413; a body within the limit goes through.
   */
  @Test
  void aChunkedBodyThatGrowsPastTheLimitIsCutOffWith413() throws Exception {
    java.util.concurrent.CompletableFuture<String> seen = new java.util.concurrent.CompletableFuture<>();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          byte[] all = socket.getInputStream().readAllBytes(); // until the proxy closes
          seen.complete(new String(all, java.nio.charset.StandardCharsets.ISO_8859_1));
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("limits.max-request-body = 1000").start();
        RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "258\r\n" + "a".repeat(600) + "\r\n");
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> backend.bytesReceived() > 600);
      client.send("258\r\n" + "b".repeat(600) + "\r\n0\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(413);
      String forwarded = seen.get(10, java.util.concurrent.TimeUnit.SECONDS);
      // Body bytes go on up to the limit (a chunk may arrive in several reads), never past it, and the
      // backend never sees the body end.
      assertThat(forwarded).contains("a".repeat(600)).doesNotContain("0\r\n\r\n");
      assertThat(forwarded.chars().filter(c -> c == 'b').count()).isLessThanOrEqualTo(400);
    }
    try (TestBackend ok = TestBackend.start(TestBackend.ok("stored"));
        ForwardingProxy proxy = ForwardingProxy.to(ok.address()).set("limits.max-request-body = 1000").start();
        RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "3e8\r\n" + "c".repeat(1000) + "\r\n0\r\n\r\n");
      assertThat(client.readResponse().status()).as("exactly the limit").isEqualTo(200);
    }
  }

  @Test
  void anHttp2BodyThatGrowsPastTheLimitGets413OnItsStreamAndTheConnectionGoesOn() throws Exception {
    try (TestBackend ok = TestBackend.start(TestBackend.ok("stored"));
        ForwardingProxy proxy = ForwardingProxy.to(ok.address()).set("limits.max-request-body = 1000").start();
        dev.meridian.proxy.testing.RawHttp2Client client =
            new dev.meridian.proxy.testing.RawHttp2Client(proxy.port()).lenient()) {
      byte[] post = dev.meridian.proxy.testing.RawHttp2Client.getBlock("/upload");
      post[0] = (byte) 0x83; // :method POST, no content-length
      client.send(dev.meridian.proxy.testing.RawHttp2Client.HEADERS, dev.meridian.proxy.testing.RawHttp2Client.END_HEADERS,
          1, post);
      client.send(dev.meridian.proxy.testing.RawHttp2Client.DATA, 0, 1, new byte[800]);
      client.send(dev.meridian.proxy.testing.RawHttp2Client.DATA, 0, 1, new byte[800]);
      client.readUntil(c -> c.status(1) != null || c.resetError(1) != null);
      assertThat(client.status(1)).isEqualTo("413");
      // The answer is whole: the client is asked to stop sending without error (RFC 9113 section 8.1).
      client.readUntil(c -> c.resetError(1) != null);
      assertThat(client.resetError(1)).as("NO_ERROR").isZero();
      client.get(3, "/after");
      client.readUntil(c -> c.ended(3));
      assertThat(client.status(3)).isEqualTo("200");
    }
  }

  @Test
  void requestLineOverTheLimitGets414() throws Exception {
    RawResponse response = rejected("GET /" + "a".repeat(9 * 1024) + " HTTP/1.1\r\nHost: app.test\r\n\r\n");

    assertThat(response.status()).isEqualTo(414);
    assertThat(response.bodyText()).startsWith("414 ").contains("request line is longer than the limit");
  }

  @Test
  void oneHugeHeaderGets431() throws Exception {
    RawResponse response = rejected("GET / HTTP/1.1\r\nHost: app.test\r\nX-Big: " + "b".repeat(33 * 1024) + "\r\n\r\n");

    assertThat(response.status()).isEqualTo(431);
  }

  @Test
  void aClientThatSendsItsWholeUploadBeforeReadingReadsTheRefusalRatherThanAReset() throws Exception {
    try (RawTcpBackend backend = sink();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      int length = 512 * 1024;
      byte[] head = ("POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: " + length + "\r\nX-Big: "
          + "b".repeat(33 * 1024) + "\r\n\r\n").getBytes(US_ASCII);
      // As curl does: the whole upload is written before the answer is read. Meridian answered 431
      // after the head; had it closed then, the bytes still arriving would have drawn a reset.
      try {
        client.output().write(head);
        byte[] chunk = new byte[16 * 1024];
        for (int sent = 0; sent < length; sent += chunk.length) {
          client.output().write(chunk);
        }
        client.output().flush();
      } catch (IOException reset) {
        throw new AssertionError("the upload was cut off by a reset", reset);
      }
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(431);
      // The client, slower than this one, is still sending: Meridian goes on reading (and dropping)
      // what comes instead of closing, which would answer each segment with a reset.
      byte[] chunk = new byte[16 * 1024];
      java.util.concurrent.ScheduledExecutorService uploader = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
      java.util.concurrent.CompletableFuture<Void> uploaded = new java.util.concurrent.CompletableFuture<>();
      java.util.concurrent.atomic.AtomicInteger chunks = new java.util.concurrent.atomic.AtomicInteger();
      try {
        uploader.scheduleAtFixedRate(() -> { // a slow uploader's pace: 16 KiB every 50 ms
          try {
            client.output().write(chunk);
            client.output().flush();
            if (chunks.incrementAndGet() == 10) {
              uploaded.complete(null);
            }
          } catch (IOException reset) {
            uploaded.completeExceptionally(reset);
          }
          if (uploaded.isDone()) {
            throw new java.util.concurrent.CancellationException("done"); // ends the schedule
          }
        }, 0, 50, java.util.concurrent.TimeUnit.MILLISECONDS);
        assertThat(uploaded).as("the rest of the upload went without a reset")
            .succeedsWithin(Duration.ofSeconds(10));
      } finally {
        uploader.shutdownNow();
      }
      client.socket().shutdownOutput();
      assertThat(client.isClosedByPeer(Duration.ofSeconds(10))).as("closed once the client stopped").isTrue();
      assertThat(backend.connectionCount()).isZero();
    }
  }

  @Test
  void headerSectionOverTheLimitGets431() throws Exception {
    StringBuilder raw = new StringBuilder("GET / HTTP/1.1\r\nHost: app.test\r\n");
    for (int i = 0; i < 40; i++) {
      raw.append("X-Part-").append(i).append(": ").append("p".repeat(1000)).append("\r\n");
    }
    RawResponse response = rejected(raw.append("\r\n").toString());

    assertThat(response.status()).isEqualTo(431);
    assertThat(response.bodyText()).contains("header section is larger than the limit");
  }

  @Test
  void moreThanTheMaximumHeaderCountGets431() throws Exception {
    StringBuilder raw = new StringBuilder("GET / HTTP/1.1\r\nHost: app.test\r\n");
    for (int i = 0; i < 100; i++) {
      raw.append("X-H").append(i).append(": v\r\n");
    }
    RawResponse response = rejected(raw.append("\r\n").toString());

    assertThat(response.status()).isEqualTo(431);
    assertThat(response.bodyText()).contains("too many header fields");
  }

  @Test
  void exactlyTheMaximumHeaderCountIsForwarded() throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
      RawTcpBackend.readHead(socket.getInputStream());
      socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(US_ASCII));
      socket.getInputStream().read();
    });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      StringBuilder raw = new StringBuilder("GET / HTTP/1.1\r\nHost: app.test\r\n");
      for (int i = 0; i < 99; i++) {
        raw.append("X-H").append(i).append(": v\r\n");
      }
      client.send(raw.append("\r\n").toString());

      assertThat(client.readResponse().status()).isEqualTo(200);
    }
  }

  @Test
  void slowRequestHeadGets408AndTheConnectionCloses() throws Exception {
    try (RawTcpBackend backend = sink();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address())
            .set("limits.request-head-timeout = 1s").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /slow HTTP/1.1\r\nHost: app.test\r\nX-Partial: ");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(408);
      assertThat(response.bodyText()).startsWith("408 Request Timeout: ");
      assertThat(client.isClosedByPeer()).isTrue();
      assertThat(backend.connectionCount()).isZero();
    }
  }

  @Test
  void stalledRequestBodyGets408AndTheBackendNeverSeesItComplete() throws Exception {
    java.util.concurrent.atomic.AtomicReference<String> seen = new java.util.concurrent.atomic.AtomicReference<>();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> seen.set(
            new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1)));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address())
            .set("timeouts.client-idle = 1s").start();
        RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100\r\n\r\n0123456789");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(408);
      assertThat(response.bodyText()).contains("request body stopped arriving");
      assertThat(client.isClosedByPeer()).isTrue();
      // The backend's connection was closed after the ten bytes: it never got the promised 100.
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> seen.get() != null);
      assertThat(seen.get()).startsWith("POST /upload HTTP/1.1").endsWith("\r\n\r\n0123456789");
    }
  }

  static Stream<Arguments> smuggling() {
    return Stream.of(
        Arguments.of("Content-Length with Transfer-Encoding: chunked",
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\nX"),
        Arguments.of("two different Content-Length headers",
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"),
        Arguments.of("one Content-Length with two values",
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 3, 5\r\n\r\nabcde"),
        Arguments.of("non-numeric Content-Length",
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: abc\r\n\r\nabc"),
        Arguments.of("obs-fold continuation line",
            "GET / HTTP/1.1\r\nHost: app.test\r\nX-A: a\r\n  folded\r\n\r\n"),
        Arguments.of("Transfer-Encoding in an HTTP/1.0 request",
            "POST / HTTP/1.0\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        Arguments.of("whitespace before the colon",
            "GET / HTTP/1.1\r\nHost : app.test\r\n\r\n"),
        Arguments.of("whitespace before the colon of another header",
            "GET / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("smuggling")
  void smugglingShapeIsRejectedWithoutReachingTheBackend(String shape, String raw) throws Exception {
    RawResponse response = rejected(raw);

    assertThat(response.status()).as(shape).isEqualTo(400);
    assertThat(response.bodyText()).startsWith("400 Bad Request: ");
    // Answered in the highest version Meridian speaks, not in one the broken head did not state.
    assertThat(response.version()).as(shape).isEqualTo("HTTP/1.1");
    assertThat(response.header("Connection")).as(shape).isEqualToIgnoringCase("close");
  }

  /**
   * A request framed with a coding Meridian does not implement is 501 (RFC 9112 section 6.1), and
   * never reaches the backend: its body could not be framed.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"gzip, chunked", "gzip", "chunked, identity", "x-custom"})
  void anUnknownTransferCodingIs501WithoutReachingTheBackend(String coding) throws Exception {
    RawResponse response = rejected("POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: " + coding
        + "\r\n\r\n0\r\n\r\n");

    assertThat(response.status()).as(coding).isEqualTo(501);
    assertThat(response.bodyText()).contains("Transfer-Encoding other than exactly 'chunked'");
    assertThat(response.header("Connection")).as(coding).isEqualToIgnoringCase("close");
  }

  /**
   * A bad chunk size is seen only after the head, which has been admitted and may already be on its
   * way to the backend. What must hold: the client gets 400 or a closed connection, and the backend
   * never receives a complete request (the chunked body never ends with its last chunk).
   */
  @Test
  void badChunkSizeNeverBecomesACompleteRequestAtTheBackend() throws Exception {
    AtomicReference<String> backendOutcome = new AtomicReference<>();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      try {
        RawTcpBackend.readHead(in);
        readChunkedBody(in);
        backendOutcome.set("complete");
        String body = "backend saw whole request";
        socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
            .getBytes(US_ASCII));
        socket.getOutputStream().flush();
        in.read();
      } catch (EOFException | SocketException | NumberFormatException e) {
        backendOutcome.set("incomplete: " + e);
      }
    });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n");

      Integer status = null;
      try {
        status = client.readResponse().status();
      } catch (EOFException | SocketException e) {
        // closing without an answer is acceptable
      }
      if (status != null) {
        assertThat(status).isEqualTo(400);
      }
      assertThat(client.isClosedByPeer()).isTrue();
      // Either the proxy never connected, or the backend's connection ended without a complete body.
      await().atMost(Duration.ofSeconds(5))
          .until(() -> backend.connectionCount() == 0 || backendOutcome.get() != null);
      assertThat(backendOutcome.get()).isNotEqualTo("complete");
    }
  }

  /**
   * The bad chunk size arrives only after the backend has the head and the first chunk: the proxy must
   * cut the upstream request off (the backend's read ends without a last chunk) and answer the client
   * 400 or close.
   */
  @Test
  void badChunkSizeAfterTheHeadWasForwardedCutsTheUpstreamRequestOff() throws Exception {
    AtomicReference<String> backendHead = new AtomicReference<>();
    AtomicReference<String> backendOutcome = new AtomicReference<>();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      try {
        backendHead.set(RawTcpBackend.readHead(in));
        readChunkedBody(in);
        backendOutcome.set("complete");
        String body = "backend saw whole request";
        socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
            .getBytes(US_ASCII));
        socket.getOutputStream().flush();
        in.read();
      } catch (EOFException | SocketException | NumberFormatException e) {
        backendOutcome.set("incomplete: " + e);
      }
    });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> backendHead.get() != null);
      client.send("zz\r\nmore\r\n0\r\n\r\n");

      Integer status = null;
      try {
        status = client.readResponse().status();
      } catch (EOFException | SocketException e) {
        // closing without an answer is acceptable
      }
      if (status != null) {
        assertThat(status).isEqualTo(400);
      }
      assertThat(client.isClosedByPeer()).isTrue();
      await().atMost(Duration.ofSeconds(5)).until(() -> backendOutcome.get() != null);
      assertThat(backendOutcome.get()).startsWith("incomplete");
      assertThat(backendHead.get()).startsWith("POST /upload HTTP/1.1\r\n");
    }
  }

  /** Reads a chunked body to its end; throws EOFException if the stream ends first. */
  private static byte[] readChunkedBody(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine(in);
      int semicolon = sizeLine.indexOf(';');
      int size = Integer.parseInt((semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim(), 16);
      if (size == 0) {
        while (!readLine(in).isEmpty()) {
          // trailer fields
        }
        return body.toByteArray();
      }
      byte[] chunk = in.readNBytes(size);
      if (chunk.length < size) {
        throw new EOFException("stream ended inside a chunk");
      }
      body.write(chunk);
      readLine(in);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new EOFException("stream ended inside a line: " + line.toString(US_ASCII));
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(US_ASCII);
  }
}
