package dev.meridian.proxy.forwarding;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.RawTcpBackend;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestBackend.Reply;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/1.x framing through the proxy: chunked bodies, 100-continue, HEAD, bodiless statuses, pipelining, 1.0, upgrades. */
class ProtocolTest {

  @TempDir Path dir;

  @Test
  void chunkedRequestBodyReachesTheBackendIntact() throws Exception {
    byte[] body = randomBytes(200_000);
    try (TestBackend backend = TestBackend.start(TestBackend.echo());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      ByteArrayOutputStream request = new ByteArrayOutputStream();
      request.write("POST /upload HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(US_ASCII));
      int[] sizes = {1, 7, 4096, 70_000, 100_000};
      int offset = 0;
      for (int size : sizes) {
        request.write((Integer.toHexString(size) + "\r\n").getBytes(US_ASCII));
        request.write(body, offset, size);
        request.write("\r\n".getBytes(US_ASCII));
        offset += size;
      }
      int rest = body.length - offset;
      request.write((Integer.toHexString(rest) + ";note=last\r\n").getBytes(US_ASCII));
      request.write(body, offset, rest);
      request.write("\r\n0\r\n\r\n".getBytes(US_ASCII));
      client.send(request.toByteArray());

      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).isEqualTo(body);
      assertThat(backend.requests()).singleElement().satisfies(r -> {
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.body()).isEqualTo(body);
      });
    }
  }

  /**
   * A request's trailer section cannot say what only its header section may (RFC 9110 section
   * 6.5.1): forwarding, credentials and hop-by-hop fields in it are dropped, a checksum goes on.
   */
  @Test
  void requestTrailersCarryNoForwardingCredentialOrHopByHopFields() throws Exception {
    java.util.concurrent.CompletableFuture<String> seen = new java.util.concurrent.CompletableFuture<>();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          java.io.InputStream in = socket.getInputStream();
          RawTcpBackend.readHead(in); // the request head
          seen.complete(RawTcpBackend.readHead(in)); // "3\r\nabc\r\n0\r\n" and the trailer section
          socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(US_ASCII));
          socket.getOutputStream().flush();
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "3\r\nabc\r\n0\r\nX-Checksum: c1\r\nX-Forwarded-For: 10.9.9.9\r\nX-Real-IP: 10.9.9.9\r\n"
          + "Authorization: Bearer forged\r\nConnection: close\r\nX-Request-Id: forged\r\nVia: 1.1 forged\r\n"
          + "True-Client-IP: 10.9.9.9\r\nX-Forwarded-Port: 443\r\nContent-Type: text/evil\r\n"
          + "Expect: 100-continue\r\nContent-Encoding: gzip\r\nIf-None-Match: *\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      String trailers = seen.get(10, java.util.concurrent.TimeUnit.SECONDS).toLowerCase(java.util.Locale.ROOT);
      assertThat(trailers).contains("x-checksum: c1\r\n")
          .doesNotContain("x-forwarded-for").doesNotContain("x-real-ip").doesNotContain("authorization")
          .doesNotContain("connection").doesNotContain("x-request-id").doesNotContain("via")
          .doesNotContain("true-client-ip").doesNotContain("x-forwarded-port").doesNotContain("content-type")
          .doesNotContain("expect").doesNotContain("content-encoding").doesNotContain("if-none-match");
    }
  }

  /**
   * A client that shuts its sending side in the middle of a request body (chunked or with a
   * Content-Length) gets 400 at once, and the backend connection holding the half-received request
   * is closed then, not after a stall timeout (client-idle is 60 s here).
   */
  @Test
  void aClientThatShutsItsSideMidBodyGets400AndTheBackendConnectionCloses() throws Exception {
    for (String head : new String[] {"Transfer-Encoding: chunked\r\n\r\n64\r\n" + "x".repeat(50),
        "Content-Length: 100\r\n\r\n" + "x".repeat(50)}) {
      java.util.concurrent.CompletableFuture<Long> backendSawClose = new java.util.concurrent.CompletableFuture<>();
      try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
            java.io.InputStream in = socket.getInputStream();
            RawTcpBackend.readHead(in);
            while (in.read() >= 0) {
              // the body's first bytes, then the proxy's close
            }
            backendSawClose.complete(System.nanoTime());
          });
          ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
          RawHttpClient client = proxy.connect()) {
        client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\n" + head);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> backend.bytesReceived() > 0);
        long shut = System.nanoTime();
        client.socket().shutdownOutput();
        assertThat(client.readResponse().status()).as(head).isEqualTo(400);
        long closedAfter = backendSawClose.get(10, java.util.concurrent.TimeUnit.SECONDS) - shut;
        assertThat(java.time.Duration.ofNanos(closedAfter)).as(head).isLessThan(java.time.Duration.ofSeconds(3));
      }
    }
  }

  /**
   * A client that sends part of a body and shuts its side while its request waits for a backend slot
   * (the body's parts wait with it) is answered 400 once the slot comes, and no backend connection is
   * left holding half the request until the body-rate check gives up.
   */
  @Test
  void aClientThatShutsItsSideWhileWaitingForABackendSlotGets400() throws Exception {
    java.util.concurrent.CountDownLatch releaseFirst = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CompletableFuture<Long> uploadClosed = new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.atomic.AtomicBoolean uploadSeen = new java.util.concurrent.atomic.AtomicBoolean();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          InputStream in = socket.getInputStream();
          while (true) {
            String head;
            try {
              head = RawTcpBackend.readHead(in);
            } catch (EOFException closed) {
              return;
            }
            if (head.startsWith("GET /slow")) {
              releaseFirst.await();
              socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(US_ASCII));
              socket.getOutputStream().flush();
              continue;
            }
            uploadSeen.set(true);
            while (in.read() >= 0) {
              // the upload's first bytes, then the proxy's close
            }
            uploadClosed.complete(System.nanoTime());
            return;
          }
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address())
            .groupOption("limits { max-connections = 1, max-pending = 10, queue-timeout = 20s }").start();
        RawHttpClient first = proxy.connect();
        RawHttpClient upload = proxy.connect()) {
      first.send("GET /slow HTTP/1.1\r\nHost: app.test\r\n\r\n");
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.bytesReceived() > 0);
      upload.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100\r\n\r\n" + "x".repeat(50));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> queued(proxy) == 1);
      upload.socket().shutdownOutput();
      long shut = System.nanoTime();

      releaseFirst.countDown();

      assertThat(first.readResponse().bodyText()).isEqualTo("ok");
      assertThat(upload.readResponse().status()).isEqualTo(400);
      assertThat(Duration.ofNanos(System.nanoTime() - shut)).isLessThan(Duration.ofSeconds(3));
      // The upload may have reached the backend before the shutdown was read; then its connection closes.
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(3))
          .until(() -> !uploadSeen.get() || uploadClosed.isDone());
    }
  }

  private static double queued(ForwardingProxy proxy) {
    io.micrometer.core.instrument.Gauge gauge =
        proxy.metrics().registry().find("meridian.backend.queued").gauge();
    return gauge == null ? 0 : gauge.value();
  }

  /** A backend that reads one request head, answers these bytes, and holds the connection until the proxy lets go. */
  private static RawTcpBackend answering(String response) throws java.io.IOException {
    return RawTcpBackend.start(socket -> {
      RawTcpBackend.readHead(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      out.write(response.getBytes(US_ASCII));
      out.flush();
      socket.getInputStream().read();
    });
  }

  /** 103 Early Hints reaches the client with its Link fields (nothing else of it), then the answer. */
  @Test
  void earlyHintsReachTheClientWithTheirLinks() throws Exception {
    try (RawTcpBackend backend = answering("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n"
          + "Link: </app.js>; rel=preload; as=script\r\nConnection: x-hint\r\nX-Hint: hop\r\n"
          + "Set-Cookie: early=1\r\n\r\n"
          + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /page HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse hints = client.readResponse();
      assertThat(hints.status()).isEqualTo(103);
      assertThat(hints.headerValues("link"))
          .containsExactly("</style.css>; rel=preload; as=style", "</app.js>; rel=preload; as=script");
      assertThat(hints.header("x-hint")).isNull();
      assertThat(hints.header("set-cookie")).as("only Link goes on in an interim response").isNull();
      RawResponse answer = client.readResponse();
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.bodyText()).isEqualTo("ok");
    }
  }

  @Test
  void chunkedResponseWithTrailersReachesTheClientWithTrailers() throws Exception {
    try (RawTcpBackend backend = answering("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
          + "Trailer: X-Checksum\r\n\r\n"
          + "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Checksum: abc123\r\n\r\n");
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /chunked HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("transfer-encoding")).isEqualTo("chunked");
      assertThat(response.bodyText()).isEqualTo("hello, world");
      assertThat(response.trailer("x-checksum")).isEqualTo("abc123");
      assertThat(backend.errors()).isEmpty();
    }
  }

  @Test
  void expectContinueWaitsForTheBackendsInterimResponse() throws Exception {
    AtomicReference<String> backendHead = new AtomicReference<>();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      backendHead.set(RawTcpBackend.readHead(in));
      out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(US_ASCII));
      out.flush();
      byte[] body = in.readNBytes(11);
      out.write(("HTTP/1.1 201 Created\r\nContent-Length: " + (body.length + 4) + "\r\n\r\ngot "
          ).getBytes(US_ASCII));
      out.write(body);
      out.flush();
      in.read();
    });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 11\r\n"
          + "Expect: 100-continue\r\n\r\n");

      RawResponse interim = client.readResponse();
      assertThat(interim.status()).isEqualTo(100);
      assertThat(backend.bytesReceived()).as("no body before 100 Continue").isEqualTo(backendHead.get().length());

      client.send("hello world");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(201);
      assertThat(response.bodyText()).isEqualTo("got hello world");
      assertThat(backendHead.get()).containsIgnoringCase("expect: 100-continue\r\n");
      assertThat(backend.errors()).isEmpty();
    }
  }

  /**
   * A backend that answers before the body came (here a final status instead of 100 Continue): the
   * answer reaches the client saying Connection: close, and the connection then closes, as it says.
   */
  @Test
  void anAnswerBeforeTheBodySaysTheConnectionCloses() throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          RawTcpBackend.readHead(socket.getInputStream());
          socket.getOutputStream().write("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 2\r\n\r\nno"
              .getBytes(US_ASCII));
          socket.getOutputStream().flush();
          socket.getInputStream().read();
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 11\r\n"
          + "Expect: 100-continue\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(417);
      assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
      assertThat(client.isClosedByPeer(java.time.Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void curlUploadsAChunkedBodyWithExpectContinue() throws Exception {
    byte[] body = randomBytes(2 * 1024 * 1024 + 17);
    Path upload = Files.write(dir.resolve("upload.bin"), body);
    Path download = dir.resolve("download.bin");
    try (TestBackend backend = TestBackend.start(TestBackend.echo());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      Process curl = new ProcessBuilder("curl", "-sS", "--http1.1", "--max-time", "10",
          "-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue",
          "--data-binary", "@" + upload, "-o", download.toString(), "-w", "%{http_code}",
          proxy.url("/echo"))
          .redirectErrorStream(true)
          .start();
      assertThat(curl.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String output = new String(curl.getInputStream().readAllBytes(), US_ASCII);

      assertThat(curl.exitValue()).as(output).isZero();
      assertThat(output).isEqualTo("200");
      assertThat(Files.readAllBytes(download)).isEqualTo(body);
      assertThat(backend.requests()).singleElement()
          .satisfies(r -> assertThat(r.body()).isEqualTo(body));
    }
  }

  @Test
  void headResponseHasLengthButNoBodyAndTheConnectionStaysUsable() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("hello"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("HEAD /thing HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse head = client.readResponse(true);
      client.send("GET /thing HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse get = client.readResponse();

      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-length")).isEqualTo("5");
      assertThat(head.header("transfer-encoding")).isNull();
      assertThat(get.status()).isEqualTo(200);
      assertThat(get.bodyText()).isEqualTo("hello");
      assertThat(client.isClosedByPeer(Duration.ofMillis(100))).isFalse();
      assertThat(backend.requests()).extracting(TestBackend.Request::method).containsExactly("HEAD", "GET");
    }
  }

  @Test
  void noContentAndNotModifiedHaveNoBody() throws Exception {
    try (TestBackend backend = TestBackend.start(request -> switch (request.uri()) {
      case "/204" -> Reply.status(204).header("X-Kind", "no-content");
      case "/304" -> Reply.status(304).header("ETag", "\"v1\"");
      default -> Reply.ok("after");
    });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /204 HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse noContent = client.readResponse();
      client.send("GET /304 HTTP/1.1\r\nHost: app.test\r\nIf-None-Match: \"v1\"\r\n\r\n");
      RawResponse notModified = client.readResponse();
      client.send("GET /after HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse after = client.readResponse();

      assertThat(noContent.status()).isEqualTo(204);
      assertThat(noContent.header("x-kind")).isEqualTo("no-content");
      assertThat(noContent.header("transfer-encoding")).isNull();
      assertThat(noContent.header("content-length")).isNull();
      assertThat(notModified.status()).isEqualTo(304);
      assertThat(notModified.header("etag")).isEqualTo("\"v1\"");
      assertThat(notModified.header("transfer-encoding")).isNull();
      assertThat(after.status()).as("no stray body bytes before the third response").isEqualTo(200);
      assertThat(after.bodyText()).isEqualTo("after");
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    try (TestBackend backend = TestBackend.start(request -> {
      Reply reply = Reply.ok("body of " + request.uri());
      // The first answer is the slowest: order must still hold.
      return request.uri().equals("/1") ? reply.delay(Duration.ofMillis(200)) : reply;
    });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /1 HTTP/1.1\r\nHost: app.test\r\n\r\n"
          + "GET /2 HTTP/1.1\r\nHost: app.test\r\n\r\n"
          + "GET /3 HTTP/1.1\r\nHost: app.test\r\n\r\n");

      List<String> bodies = List.of(client.readResponse().bodyText(), client.readResponse().bodyText(),
          client.readResponse().bodyText());

      assertThat(bodies).containsExactly("body of /1", "body of /2", "body of /3");
      assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/1", "/2", "/3");
    }
  }

  @Test
  void http10ClientGetsHttp10AndTheConnectionCloses() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("old"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /old HTTP/1.0\r\nHost: app.test\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.version()).isEqualTo("HTTP/1.0");
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("old");
      assertThat(client.isClosedByPeer()).isTrue();
    }
  }

  @Test
  void http10KeepAliveClientKeepsItsConnectionWhenTheLengthIsKnown() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("old"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /a HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\n");
      RawResponse first = client.readResponse();
      assertThat(client.isClosedByPeer(Duration.ofMillis(200))).isFalse();
      client.send("GET /b HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\n");
      RawResponse second = client.readResponse();

      assertThat(first.version()).isEqualTo("HTTP/1.0");
      assertThat(first.header("content-length")).isEqualTo("3");
      assertThat(first.header("connection")).isEqualToIgnoringCase("keep-alive");
      assertThat(second.bodyText()).isEqualTo("old");
      assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/a", "/b");
    }
  }

  @Test
  void http10KeepAliveClientGetsACloseDelimitedBodyWhenTheLengthIsUnknown() throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
      RawTcpBackend.readHead(socket.getInputStream());
      socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "4\r\nsome\r\n5\r\nthing\r\n0\r\nX-Dropped: yes\r\n\r\n").getBytes(US_ASCII));
      socket.getInputStream().read();
    });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /stream HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.version()).isEqualTo("HTTP/1.0");
      assertThat(response.header("transfer-encoding")).isNull();
      assertThat(response.header("content-length")).isNull();
      assertThat(response.bodyText()).as("read until the proxy closed").isEqualTo("something");
    }
  }

  @Test
  void webSocketUpgradeRelaysBytesBothWays() throws Exception {
    AtomicReference<String> backendHead = new AtomicReference<>();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      backendHead.set(RawTcpBackend.readHead(in));
      // The 101 and the backend's first frame bytes in one write.
      out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nwelcome").getBytes(US_ASCII));
      out.flush();
      byte[] buffer = new byte[4096];
      int n;
      while ((n = in.read(buffer)) > 0) {
        out.write(buffer, 0, n);
        out.flush();
      }
    });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /chat HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      RawResponse switching = client.readResponse();

      assertThat(switching.status()).isEqualTo(101);
      assertThat(switching.header("upgrade")).isEqualToIgnoringCase("websocket");
      assertThat(switching.header("connection")).isEqualToIgnoringCase("upgrade");
      assertThat(switching.header("sec-websocket-accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
      assertThat(new String(client.readBytes(7), US_ASCII)).isEqualTo("welcome");

      byte[] binary = randomBytes(100_000);
      client.send("ping-1");
      assertThat(new String(client.readBytes(6), US_ASCII)).isEqualTo("ping-1");
      client.send(binary);
      assertThat(client.readBytes(binary.length)).isEqualTo(binary);

      assertThat(backendHead.get())
          .containsIgnoringCase("upgrade: websocket\r\n")
          .containsIgnoringCase("connection: upgrade\r\n")
          .containsIgnoringCase("sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n");

      client.socket().shutdownOutput();
      assertThat(client.isClosedByPeer()).as("the backend's close reaches the client").isTrue();
      assertThat(backend.errors()).isEmpty();
    }
  }

  /**
   * A method no route for the target takes is answered 405 with the methods they take (RFC 9110
   * section 15.5.6), not 404; a route listing GET takes HEAD.
   */
  @Test
  void aMethodTheRoutesForATargetDoNotTakeIs405WithAllow() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).routeOption("methods = [GET, PUT]").start();
        RawHttpClient client = proxy.connect()) {
      client.send("DELETE /form HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse refused = client.readResponse();
      assertThat(refused.status()).isEqualTo(405);
      assertThat(refused.header("allow")).isEqualTo("GET, HEAD, PUT");

      client.send("HEAD /form HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse(true).status()).as("HEAD goes where GET does").isEqualTo(200);
      assertThat(backend.requests()).extracting(r -> r.method()).containsExactly("HEAD");
    }
  }

  /**
   * A backend for the upgrade tests: answers a request asking for WebSocket with 101 and then echoes
   * what it receives; any other request with 200 and "ok".
   */
  private static RawTcpBackend switchingBackend() throws IOException {
    return RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      while (true) {
        String head;
        try {
          head = RawTcpBackend.readHead(in);
        } catch (EOFException closedBetweenRequests) {
          return;
        }
        if (!head.toLowerCase(Locale.ROOT).contains("upgrade: websocket")) {
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(US_ASCII));
          out.flush();
          continue;
        }
        out.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            .getBytes(US_ASCII));
        out.flush();
        in.transferTo(out);
        return;
      }
    });
  }

  private static final String WEBSOCKET_REQUEST = "GET /chat HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\n"
      + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

  /**
   * What a client sends right behind its upgrade request, before the 101 came back, is the new
   * protocol's: it reaches the backend after the switch as it was sent, even when it looks like HTTP.
   */
  @Test
  void bytesSentRightBehindAnUpgradeRequestGoThroughTheTunnel() throws Exception {
    try (RawTcpBackend backend = switchingBackend();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      String early = "GET /not-http HTTP/1.1\r\nHost: x\r\n\r\n\u0000\u0001frame";
      client.send(WEBSOCKET_REQUEST + early);

      assertThat(client.readResponse().status()).isEqualTo(101);
      assertThat(new String(client.readBytes(early.length()), US_ASCII)).as("echoed by the backend").isEqualTo(early);
      client.send("after");
      assertThat(new String(client.readBytes(5), US_ASCII)).isEqualTo("after");
      assertThat(backend.errors()).isEmpty();
    }
  }

  /** A pipelined request behind an upgrade request the backend does not switch for is answered as HTTP. */
  @Test
  void aRequestPipelinedBehindARefusedUpgradeIsAnswered() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send(WEBSOCKET_REQUEST + "GET /next HTTP/1.1\r\nHost: app.test\r\n\r\n");

      assertThat(client.readResponse().status()).as("no switch: a plain answer").isEqualTo(200);
      assertThat(client.readResponse().status()).as("the pipelined request").isEqualTo(200);
      assertThat(backend.requests()).extracting(r -> r.uri()).containsExactly("/chat", "/next");
      client.send("GET /third HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
  }

  /**
   * An upgrade request pipelined behind another request waits its turn, and what follows it is kept
   * for the tunnel until its own answer: the earlier request's answer does not let it be read as HTTP.
   */
  @Test
  void anUpgradeRequestPipelinedBehindAnotherKeepsItsFollowingBytesForTheTunnel() throws Exception {
    try (RawTcpBackend backend = switchingBackend();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      String early = "GET /frame HTTP/1.1\r\n\r\n";
      client.send("GET /first HTTP/1.1\r\nHost: app.test\r\n\r\n" + WEBSOCKET_REQUEST + early);

      RawResponse first = client.readResponse();
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.bodyText()).isEqualTo("ok");
      assertThat(client.readResponse().status()).isEqualTo(101);
      assertThat(new String(client.readBytes(early.length()), US_ASCII)).as("echoed by the backend").isEqualTo(early);
      assertThat(backend.errors()).isEmpty();
    }
  }

  /**
   * A 101 that names no protocol, or one the client did not ask for (even one the route would let
   * another client ask for), opens no tunnel: 502.
   */
  @Test
  void aSwitchToNoProtocolOrAnotherIs502() throws Exception {
    for (String upgrade : List.of("", "Upgrade: h2c\r\n", "Upgrade: TLS/1.2\r\n")) {
      try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
        RawTcpBackend.readHead(socket.getInputStream());
        socket.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\n" + upgrade
            + "Connection: Upgrade\r\n\r\n").getBytes(US_ASCII));
        socket.getOutputStream().flush();
        socket.getInputStream().transferTo(socket.getOutputStream());
      });
          ForwardingProxy proxy = ForwardingProxy.to(backend.address())
              .routeOption("upgrades = [websocket, tls]").start();
          RawHttpClient client = proxy.connect()) {
        client.send(WEBSOCKET_REQUEST);
        assertThat(client.readResponse().status()).as(upgrade).isEqualTo(502);
        assertThat(proxy.metrics().openTunnels()).isZero();
      }
    }
  }

  /** A backend that switches protocols for the first request, then stays silent until the proxy closes. */
  private static RawTcpBackend silentSwitchingBackend() throws IOException {
    return RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      RawTcpBackend.readHead(in);
      socket.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\n\r\n").getBytes(US_ASCII));
      socket.getOutputStream().flush();
      int b;
      while ((b = in.read()) >= 0) {
        socket.getOutputStream().write(b); // echoes what comes, else silent
        socket.getOutputStream().flush();
      }
    });
  }

  /** A silent tunnel is closed after its route's tunnel-idle, both ways, though client-idle is longer. */
  @Test
  void aSilentTunnelIsClosedAfterItsRoutesTunnelIdle() throws Exception {
    try (RawTcpBackend backend = silentSwitchingBackend();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).routeOption("tunnel-idle = 1s").start();
        RawHttpClient client = proxy.connect()) {
      client.send(WEBSOCKET_REQUEST);
      assertThat(client.readResponse().status()).isEqualTo(101);
      long switched = System.nanoTime();
      assertThat(client.isClosedByPeer(Duration.ofSeconds(10))).as("the idle tunnel is closed").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - switched)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
      assertThat(backend.errors()).isEmpty();
    }
  }

  /**
   * A quiet WebSocket outlives the client and upstream idle timeouts, which watch HTTP connections:
   * its tunnel is timed by timeouts.tunnel-idle alone.
   */
  @Test
  void aTunnelOutlivesTheHttpIdleTimeouts() throws Exception {
    try (RawTcpBackend backend = silentSwitchingBackend();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("timeouts.client-idle = 1s")
            .set("timeouts.upstream-idle = 1s").set("timeouts.tunnel-idle = 1h").start();
        RawHttpClient client = proxy.connect()) {
      client.send(WEBSOCKET_REQUEST);
      assertThat(client.readResponse().status()).isEqualTo(101);
      assertThat(client.isClosedByPeer(Duration.ofMillis(3500))).as("open past both idle timeouts").isFalse();
      client.send("still here");
      assertThat(new String(client.readBytes(10), US_ASCII)).as("echoed through the tunnel").isEqualTo("still here");
      assertThat(backend.errors()).isEmpty();
    }
  }

  @Test
  void upgradeOnARouteThatAllowsNoneIsForwardedAsAPlainRequest() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).routeOption("upgrades = []").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /chat HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(backend.requests()).singleElement().satisfies(r -> {
        assertThat(r.headers().contains("upgrade")).isFalse();
        assertThat(r.headers().contains("connection")).isFalse();
      });
      assertThat(response.bodyText()).doesNotContain("upgrade:");
      client.send("GET /next HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).as("still plain HTTP").isEqualTo(200);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    new Random(n).nextBytes(bytes);
    return bytes;
  }
}
