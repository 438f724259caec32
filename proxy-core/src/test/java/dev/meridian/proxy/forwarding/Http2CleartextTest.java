package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawTcpBackend;
import dev.meridian.proxy.testing.TestBackend;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 with prior knowledge (h2c) on a cleartext listener, driven by curl, nghttp and h2load
 * (installed by .ci/run), to an HTTP/1.1 backend through the same forwarding core.
 */
class Http2CleartextTest {

  static String run(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as(text).isZero();
    return text;
  }

  static boolean installed(String tool) {
    try {
      return new ProcessBuilder(tool, "--version").start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  @Test
  void curlSpeaksHttp2WithPriorKnowledgeAndHttp1OnTheSameListener() throws Exception {
    assumeTrue(installed("curl"), "curl is installed by .ci/run");
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      String h2 = run(List.of("curl", "-s", "-i", "--http2-prior-knowledge", proxy.url("/h2?x=1")));
      // The backend answered HTTP/1.1 (the response's Via); the client asked over HTTP/2 (the
      // request's Via, echoed in the body).
      assertThat(h2).startsWith("HTTP/2 200").contains("via: 1.1 meridian").contains("x-request-id: ");
      assertThat(h2).contains("\nvia: 2 meridian\n");
      assertThat(h2).contains("host: 127.0.0.1:" + proxy.port()).doesNotContain("x-http2-");
      String h1 = run(List.of("curl", "-s", "-i", "--http1.1", proxy.url("/h1")));
      assertThat(h1).startsWith("HTTP/1.1 200");
      assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/h2?x=1", "/h1");
    }
  }

  /**
   * A 204 that announces a body (a buggy backend's Content-Length: 5) goes on without the field, as
   * RFC 9110 section 8.6 requires: nghttp2-based clients (curl, browsers' stacks alike) refuse an
   * HTTP/2 stream whose 204 carries a content-length other than 0.
   */
  @Test
  void a204ThatAnnouncesABodyReachesAnHttp2ClientWithoutItsContentLength() throws Exception {
    assumeTrue(installed("curl"), "curl is installed by .ci/run");
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          var in = socket.getInputStream();
          var out = socket.getOutputStream();
          while (!RawTcpBackend.readHead(in).isEmpty()) {
            out.write("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
          }
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      String h2 = run(List.of("curl", "-s", "-i", "--http2-prior-knowledge", proxy.url("/nothing")));
      assertThat(h2).startsWith("HTTP/2 204").doesNotContainIgnoringCase("content-length");
      String h1 = run(List.of("curl", "-s", "-i", "--http1.1", proxy.url("/nothing")));
      assertThat(h1).startsWith("HTTP/1.1 204").doesNotContainIgnoringCase("content-length");
    }
  }

  /** Five streams in flight on one HTTP/2 connection are one open client connection, not five. */
  @Test
  void anHttp2ConnectionCountsOnceAmongOpenConnectionsWhateverItsStreams() throws Exception {
    assumeTrue(installed("nghttp"), "nghttp (nghttp2-client) is installed by .ci/run");
    CompletableFuture<TestBackend.Reply> answer = new CompletableFuture<>();
    try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.when(answer));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      Process client = new ProcessBuilder("nghttp", "-n", "-m", "5", proxy.url("/held"))
          .redirectErrorStream(true).start();
      try {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(proxy.metrics().inFlight()).as("requests in flight").isEqualTo(5));
        assertThat(proxy.metrics().clientConnections()).isEqualTo(1);
      } finally {
        answer.complete(TestBackend.Reply.ok("done"));
      }
      assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(client.exitValue()).as(new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
          .isZero();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(proxy.metrics().clientConnections()).as("open client connections").isZero());
    }
  }

  /** An HTTP/2 request is held to the listener's HTTP/1.1 limits, and nothing reaches the backend. */
  @Test
  void anHttp2RequestIsHeldToTheRequestLimits() throws Exception {
    assumeTrue(installed("curl"), "curl is installed by .ci/run");
    try (TestBackend backend = TestBackend.start(TestBackend.ok("reached"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("limits.max-header-count = 10").start()) {
      List<String> status = List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--http2-prior-knowledge");
      assertThat(run(concat(status, List.of(proxy.url("/" + "p".repeat(9000)))))).isEqualTo("414");
      List<String> fields = new ArrayList<>(status);
      for (int i = 0; i < 12; i++) {
        fields.addAll(List.of("-H", "X-Field-" + i + ": v"));
      }
      fields.add(proxy.url("/many"));
      assertThat(run(fields)).isEqualTo("431");
      assertThat(run(concat(status, List.of(proxy.url("/fine"))))).isEqualTo("200");
      assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/fine");
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  @Test
  void largeBodiesStreamBothWaysOverHttp2(@TempDir Path dir) throws Exception {
    assumeTrue(installed("curl"), "curl is installed by .ci/run");
    byte[] body = new byte[3 * 1024 * 1024];
    new Random(5).nextBytes(body);
    Path upload = Files.write(dir.resolve("upload.bin"), body);
    Path download = dir.resolve("download.bin");
    try (TestBackend backend = TestBackend.start(TestBackend.echo());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      run(List.of("curl", "-s", "--http2-prior-knowledge", "--data-binary", "@" + upload,
          "-H", "Content-Type: application/octet-stream", "-o", download.toString(), proxy.url("/echo")));
      assertThat(sha256(Files.readAllBytes(download))).isEqualTo(sha256(body));
    }
  }

  @Test
  void manyConcurrentStreamsAllSucceed() throws Exception {
    assumeTrue(installed("h2load"), "h2load (nghttp2-client) is installed by .ci/run");
    try (TestBackend backend = TestBackend.start(TestBackend.ok("stream"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      String report = run(List.of("h2load", "-n", "2000", "-c", "4", "-m", "50", proxy.url("/")));
      assertThat(report).contains("2000 succeeded, 0 failed, 0 errored");
      assertThat(report).contains("status codes: 2000 2xx");
    }
  }

  @Test
  void nghttpMultiplexesOnOneConnection() throws Exception {
    assumeTrue(installed("nghttp"), "nghttp (nghttp2-client) is installed by .ci/run");
    try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.ok(request.uri())
            .delay(java.time.Duration.ofMillis(50)));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      List<String> command = new ArrayList<>(List.of("nghttp", "-s"));
      for (int i = 0; i < 20; i++) {
        command.add(proxy.url("/s" + i));
      }
      String stats = run(command);
      // nghttp -s prints one statistics line per stream, ending with its path.
      assertThat(stats.lines().filter(l -> l.matches(".*\\s/s\\d+$")).count()).as(stats).isEqualTo(20);
      assertThat(backend.requests()).hasSize(20);
    }
  }

  /**
   * A stream whose client grants it no more window waits, and the connection's other streams go on:
   * stream 1 gets exactly its initial window (65,535 bytes) of a 1 MiB body, stream 3 is answered
   * whole meanwhile, and stream 1 finishes once the client opens its window. Raw frames over a socket,
   * so the client controls every WINDOW_UPDATE.
   */
  @Test
  void aStreamStalledByFlowControlDoesNotHoldUpTheConnectionsOtherStreams() throws Exception {
    int bigLength = 1 << 20;
    try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.ok(
            request.uri().equals("/big") ? "b".repeat(bigLength) : "small"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttp2Client client = new RawHttp2Client(proxy.port())) {
      client.windowUpdate(0, 64 * 1024 * 1024);
      client.get(1, "/big");
      client.get(3, "/small");
      client.readUntil(frames -> frames.ended(3));
      assertThat(client.dataBytes(3)).isEqualTo(5);
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        client.readAvailable();
        return client.dataBytes(1) == 65_535;
      });
      assertThat(client.ended(1)).isFalse();

      client.windowUpdate(1, bigLength - 65_535);
      client.readUntil(frames -> frames.ended(1));
      assertThat(client.dataBytes(1)).isEqualTo(bigLength);
    }
  }

  /**
   * Response fields never enter HPACK's dynamic table, as nginx's and HAProxy's do not: each response
   * header block is static-table references and literals without indexing, after one table size
   * update to 0 at the start of the connection's first block, also when the client allows a larger
   * table (browsers ask for 64 KiB), so the connection keeps no response fields between requests; a
   * later SETTINGS that changes the size is answered by two updates (that size, then 0). The
   * client's own HPACK decoder reads every block (its table size updates included).
   */
  @Test
  void responseHeaderFieldsAreNeverAddedToHpacksDynamicTable() throws Exception {
    byte[] noSettings = new byte[0];
    byte[] browserTable = RawHttp2Client.setting(0x1, 65_536); // SETTINGS_HEADER_TABLE_SIZE
    try (TestBackend backend = TestBackend.start(TestBackend.ok("hello"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      for (byte[] settings : List.of(noSettings, browserTable)) {
        try (RawHttp2Client client = new RawHttp2Client(proxy.port(), settings)) {
          for (int stream = 1; stream <= 5; stream += 2) {
            int id = stream;
            client.get(id, "/same");
            client.readUntil(frames -> frames.ended(id));
            assertThat(client.status(id)).isEqualTo("200");
          }
          List<String> first = RawHttp2Client.hpackRepresentations(client.headerBlock(1));
          assertThat(first.get(0)).isEqualTo("table-size 0");
          List<String> fields = first.subList(1, first.size());
          assertThat(fields).hasSizeGreaterThan(4).doesNotContain("incremental")
              .allMatch(kind -> !kind.startsWith("table-size"))
              .allMatch(kind -> !kind.startsWith("indexed ") || Integer.parseInt(kind.substring(8)) <= 61);
          // The later responses are encoded alike: nothing of the first one is referred to.
          assertThat(RawHttp2Client.hpackRepresentations(client.headerBlock(3))).isEqualTo(fields);
          assertThat(RawHttp2Client.hpackRepresentations(client.headerBlock(5))).isEqualTo(fields);
          // A later SETTINGS that changes the size: the next block says so, then goes back to 0.
          client.send(RawHttp2Client.SETTINGS, 0, 0, RawHttp2Client.setting(0x1, 2048));
          client.get(7, "/same");
          client.readUntil(frames -> frames.ended(7));
          List<String> afterSettings = RawHttp2Client.hpackRepresentations(client.headerBlock(7));
          assertThat(afterSettings.subList(0, 2)).containsExactly("table-size 2048", "table-size 0");
          assertThat(afterSettings.subList(2, afterSettings.size())).isEqualTo(fields);
        }
      }
    }
  }

  /**
   * An upload to a backend that stops reading holds the client to its flow-control window: Meridian
   * gives a stream's bytes back to the client's window only as it can pass them on, so a 64 MiB body
   * stops well short (the loopback socket buffers fill, then nothing more is credited) and nothing
   * piles up in the proxy; once the backend reads again, the rest flows and the upload completes
   * whole. Raw frames, so the test sees every WINDOW_UPDATE the proxy sends.
   */
  @Test
  void anUploadToABackendThatStopsReadingIsHeldToTheClientsWindowThenCompletes() throws Exception {
    long total = 64L << 20;
    CountDownLatch readAgain = new CountDownLatch(1);
    try (ServerSocket backend = new ServerSocket()) {
      backend.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> stallThenRead(backend, readAgain, total));
      try (ForwardingProxy proxy = ForwardingProxy.to((InetSocketAddress) backend.getLocalSocketAddress()).start();
          RawHttp2Client client = new RawHttp2Client(proxy.port())) {
        client.send(RawHttp2Client.HEADERS, RawHttp2Client.END_HEADERS, 1, RawHttp2Client.postBlock("/upload", total));
        long[] sent = {0};
        // Blocked: nothing left to send in the window, and no more granted for a second (the client
        // sends what each grant allows as soon as it arrives: polled every millisecond).
        await().pollInterval(Duration.ofMillis(1)).during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(30))
            .until(() -> sendWhatTheWindowAllows(client, sent, total) == 0 && sent[0] < total);
        assertThat(sent[0]).as("bytes the client could send while the backend read nothing").isLessThan(total / 2);

        readAgain.countDown();
        await().pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(60)).until(() -> {
          sendWhatTheWindowAllows(client, sent, total);
          return client.ended(1);
        });
        assertThat(client.status(1)).isEqualTo("200");
        assertThat(received.get(10, TimeUnit.SECONDS)).isEqualTo(total);
      }
    }
  }

  /** Sends DATA on stream 1 as far as both windows allow (END_STREAM on the last), after reading what arrived; returns the bytes sent. */
  private static long sendWhatTheWindowAllows(RawHttp2Client client, long[] sent, long total) throws IOException {
    client.readAvailable();
    long window = Math.min(65_535 + client.windowGranted(1), 65_535 + client.windowGranted(0)) - sent[0];
    long now = 0;
    byte[] chunk = new byte[16_384];
    while (window > 0 && sent[0] < total) {
      int n = (int) Math.min(chunk.length, Math.min(window, total - sent[0]));
      sent[0] += n;
      window -= n;
      now += n;
      client.send(RawHttp2Client.DATA, sent[0] == total ? RawHttp2Client.END_STREAM : 0, 1,
          n == chunk.length ? chunk : Arrays.copyOf(chunk, n));
    }
    return now;
  }

  /** A backend that accepts one request, reads nothing until told, then reads its body whole and answers 200. */
  private static long stallThenRead(ServerSocket server, CountDownLatch readAgain, long bodyLength) {
    try (Socket socket = server.accept()) {
      if (!readAgain.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("never told to read");
      }
      InputStream in = socket.getInputStream();
      int matched = 0;
      while (matched < 4) { // the head, up to its empty line
        int b = in.read();
        if (b < 0) {
          throw new IOException("the request ended inside its head");
        }
        matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      long read = 0;
      byte[] buffer = new byte[65_536];
      while (read < bodyLength) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, bodyLength - read));
        if (n < 0) {
          break;
        }
        read += n;
      }
      socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      return read;
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
