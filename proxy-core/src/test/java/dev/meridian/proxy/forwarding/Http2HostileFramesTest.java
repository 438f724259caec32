package dev.meridian.proxy.forwarding;

import static dev.meridian.proxy.testing.Bytes.concat;
import static dev.meridian.proxy.testing.RawHttp2Client.CONTINUATION;
import static dev.meridian.proxy.testing.RawHttp2Client.DATA;
import static dev.meridian.proxy.testing.RawHttp2Client.END_HEADERS;
import static dev.meridian.proxy.testing.RawHttp2Client.END_STREAM;
import static dev.meridian.proxy.testing.RawHttp2Client.HEADERS;
import static dev.meridian.proxy.testing.RawHttp2Client.frame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.TestBackend;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 clients that send what no honest client sends, over h2c with prior knowledge: an HPACK
 * bomb, HEADERS on closed and passed-over streams, a header block left open. Each is answered
 * promptly (a 431, a RST_STREAM or a GOAWAY with the right error code), nothing of it reaches the
 * backend, and what honest clients do that looks alike (trailers, frames cut anywhere, late frames on
 * a stream Meridian reset) still works.
 */
class Http2HostileFramesTest {
  private static final long PROTOCOL_ERROR = 0x1;
  private static final long STREAM_CLOSED = 0x5;
  private static final long ENHANCE_YOUR_CALM = 0xb;

  private TestBackend backend;
  private ForwardingProxy proxy;

  @BeforeEach
  void start() throws Exception {
    backend = TestBackend.start(TestBackend.ok("fine"));
    proxy = ForwardingProxy.to(backend.address()).set("limits.request-head-timeout = 500ms").start();
  }

  @AfterEach
  void stop() {
    proxy.close();
    backend.close();
  }

  private RawHttp2Client client() throws Exception {
    return new RawHttp2Client(proxy.port()).lenient();
  }

  /** One 4000-byte field added to the dynamic table, then {@code references} one-byte references to it. */
  private static byte[] bomb(int references) {
    byte[] refs = new byte[references];
    Arrays.fill(refs, (byte) (0x80 | 62)); // indexed: the newest dynamic-table entry
    return concat(RawHttp2Client.getBlock("/bomb"), RawHttp2Client.literalIndexed("x-bomb", "a".repeat(4000)), refs);
  }

  @Test
  void anHpackBombIsAnswered431AndResetPromptlyAndTheConnectionServesOn() throws Exception {
    try (RawHttp2Client client = client()) {
      byte[] block = bomb(2000); // 8 MB once decoded, 6 KB on the wire
      client.sendRaw(concat(
          frame(HEADERS, END_STREAM, 1, Arrays.copyOfRange(block, 0, 4000)),
          frame(CONTINUATION, END_HEADERS, 1, Arrays.copyOfRange(block, 4000, block.length))));
      long started = System.nanoTime();
      client.readUntil(c -> c.resetError(1) != null);
      assertThat((System.nanoTime() - started) / 1_000_000).as("answered within ms").isLessThan(2000);
      assertThat(client.status(1)).isEqualTo("431");

      client.get(3, "/after");
      client.readUntil(c -> c.ended(3));
      assertThat(client.status(3)).as("the bomb cost the client its stream, not the connection").isEqualTo("200");
      assertThat(client.goAwayError()).isNull();
    }
    assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/after");
  }

  /**
   * A flood of WINDOW_UPDATE frames (and PRIORITY, PING ACK or extension frames, which Netty does not
   * limit either) ends the
   * connection with ENHANCE_YOUR_CALM; a client granting window for what it received stays within
   * the budget (the large downloads of Http2ConnectionBufferTest, for one).
   */
  @Test
  void aWindowUpdateOrPriorityFloodEndsTheConnection() throws Exception {
    byte[] windowUpdate = frame(8, 0, 0, new byte[] {0, 0, 0, 1}); // stream 0, increment 1
    byte[] priority = frame(2, 0, 1, new byte[] {0, 0, 0, 0, 16});
    byte[] pingAck = frame(6, 1, 0, new byte[8]);
    byte[] settingsAck = frame(4, 1, 0, new byte[0]);
    byte[] priorityUpdate = frame(0x10, 0, 0, new byte[] {0, 0, 0, 1, 'u', '=', '1'}); // RFC 9218
    byte[] unknown = frame(0xff, 0, 0, new byte[0]);
    for (byte[] each : List.of(windowUpdate, priority, pingAck, settingsAck, priorityUpdate, unknown)) {
      try (RawHttp2Client client = client()) {
        client.readUntil(RawHttp2Client::settingsReceived);
        int frames = 1024 + 2000; // ClientFrameGuard's free budget, and more (nothing received, one stream)
        java.io.ByteArrayOutputStream flood = new java.io.ByteArrayOutputStream(frames * each.length);
        for (int i = 0; i < frames; i++) {
          flood.writeBytes(each);
        }
        client.sendRaw(flood.toByteArray());
        client.readUntil(c -> c.closed());
        assertThat(client.goAwayError()).isEqualTo(ENHANCE_YOUR_CALM);
      }
    }
    // Within the limit, nothing happens: the connection serves on.
    try (RawHttp2Client client = client()) {
      java.io.ByteArrayOutputStream some = new java.io.ByteArrayOutputStream();
      for (int i = 0; i < 1000; i++) {
        some.writeBytes(windowUpdate);
      }
      client.sendRaw(some.toByteArray());
      client.get(1, "/after");
      client.readUntil(c -> c.ended(1));
      assertThat(client.status(1)).isEqualTo("200");
      assertThat(client.goAwayError()).isNull();
    }
  }

  /**
   * A client with a tiny window (256 bytes, as {@code nghttp -w 8}) grants window for every DATA
   * frame, two WINDOW_UPDATEs each (stream and connection): far more per byte than the byte budget,
   * within the budget per write. Its download completes.
   */
  @Test
  void aClientWithATinyWindowDownloadsWithoutTrippingTheFloodBudget() throws Exception {
    String body = "x".repeat(200_000);
    try (TestBackend big = TestBackend.start(TestBackend.ok(body));
        ForwardingProxy bigProxy = ForwardingProxy.to(big.address()).start();
        RawHttp2Client client = new RawHttp2Client(bigProxy.port(), RawHttp2Client.setting(0x4, 256)).lenient()) {
      client.get(1, "/big");
      int granted = 0;
      while (!client.ended(1) && !client.closed()) {
        int seen = granted;
        client.readUntil(c -> c.dataBytes(1) > seen || c.ended(1));
        int delta = client.dataBytes(1) - granted;
        if (delta > 0) {
          client.windowUpdate(1, delta);
          client.windowUpdate(0, delta);
          granted += delta;
        }
      }
      assertThat(client.goAwayError()).isNull();
      assertThat(client.dataBytes(1)).isEqualTo(body.length());
    }
  }

  @Test
  void headersOnAStreamClosedBothWaysIsAConnectionErrorStreamClosed() throws Exception {
    try (RawHttp2Client client = client()) {
      client.get(1, "/one");
      client.readUntil(c -> c.ended(1));
      client.get(1, "/again");
      client.readUntil(c -> c.closed());
      assertThat(client.goAwayError()).isEqualTo(STREAM_CLOSED);
    }
    assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/one");
  }

  @Test
  void headersOnAStreamIdentifierLowerThanOneUsedIsAConnectionErrorProtocolError() throws Exception {
    try (RawHttp2Client client = client()) {
      client.get(5, "/five");
      client.readUntil(c -> c.ended(5));
      client.get(3, "/three");
      client.readUntil(c -> c.closed());
      assertThat(client.goAwayError()).isEqualTo(PROTOCOL_ERROR);
    }
    assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/five");
  }

  @Test
  void aHeaderBlockLeftOpenPastTheRequestHeadTimeoutEndsTheConnection() throws Exception {
    try (RawHttp2Client client = client()) {
      // The SETTINGS acknowledged first: no other frame may come between HEADERS and CONTINUATION.
      client.readUntil(RawHttp2Client::settingsReceived);
      client.send(HEADERS, END_STREAM, 1, RawHttp2Client.getBlock("/slow")); // no END_HEADERS, ever
      long started = System.nanoTime();
      client.readUntil(c -> c.closed());
      long ms = (System.nanoTime() - started) / 1_000_000;
      assertThat(client.goAwayError()).isEqualTo(ENHANCE_YOUR_CALM);
      assertThat(ms).as("closed after the 500 ms request-head timeout").isBetween(400L, 5000L);
    }
    assertThat(backend.requests()).isEmpty();
  }

  @Test
  void aHeaderBlockFinishedInTimeAcrossContinuationsIsServed() throws Exception {
    try (RawHttp2Client client = client()) {
      client.readUntil(RawHttp2Client::settingsReceived);
      byte[] block = concat(RawHttp2Client.getBlock("/split"), RawHttp2Client.literalIndexed("x-long", "b".repeat(3000)));
      client.send(HEADERS, END_STREAM, 1, Arrays.copyOfRange(block, 0, 1500));
      client.send(CONTINUATION, 0, 1, Arrays.copyOfRange(block, 1500, 3000));
      client.send(CONTINUATION, END_HEADERS, 1, Arrays.copyOfRange(block, 3000, block.length));
      client.readUntil(c -> c.ended(1));
      assertThat(client.status(1)).isEqualTo("200");
      // Long after the timeout: the deadline was disarmed when the block ended.
      client.get(3, "/later");
      client.readUntil(c -> c.ended(3));
      assertThat(client.goAwayError()).isNull();
    }
    assertThat(backend.requests()).extracting(r -> r.header("x-long")).first().asString().hasSize(3000);
  }

  @Test
  void trailersAndRequestsInOneWriteCutIntoSingleBytesAreServed() throws Exception {
    byte[] trailers = concat(new byte[] {0x00}, "\u0003x-t".getBytes(StandardCharsets.US_ASCII),
        "\u0001y".getBytes(StandardCharsets.US_ASCII)); // literal x-t: y, not indexed
    byte[] post = concat(new byte[] {(byte) 0x83, (byte) 0x86}, // :method POST, :scheme http
        concat(new byte[] {0x04, 0x05}, "/post".getBytes(StandardCharsets.US_ASCII)),
        concat(new byte[] {0x01, 0x09}, "localhost".getBytes(StandardCharsets.US_ASCII)));
    byte[] all = concat(
        frame(HEADERS, END_HEADERS, 1, post),
        frame(DATA, 0, 1, "hello".getBytes(StandardCharsets.US_ASCII)),
        frame(HEADERS, END_HEADERS | END_STREAM, 1, trailers), // trailers: HEADERS again on stream 1
        frame(HEADERS, END_HEADERS | END_STREAM, 3, RawHttp2Client.getBlock("/three")));
    try (RawHttp2Client client = client()) {
      for (byte b : all) {
        client.sendRaw(new byte[] {b});
      }
      client.readUntil(c -> c.ended(1) && c.ended(3));
      assertThat(client.status(1)).isEqualTo("200");
      assertThat(client.status(3)).isEqualTo("200");
      assertThat(client.goAwayError()).isNull();
    }
    assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactlyInAnyOrder("/post", "/three");
  }

  @Test
  void aHeadersFrameWithContentLengthZeroThatLeavesTheStreamOpenGoesUpstreamBeforeItsEnd() throws Exception {
    // content-length: 0 (static table name 28) and no END_STREAM: the end comes in a later DATA frame.
    byte[] post = concat(new byte[] {(byte) 0x83, (byte) 0x86}, // :method POST, :scheme http
        concat(new byte[] {0x04, 0x05}, "/zero".getBytes(StandardCharsets.US_ASCII)),
        concat(new byte[] {0x01, 0x09}, "localhost".getBytes(StandardCharsets.US_ASCII)),
        new byte[] {0x0f, 0x0d, 0x01, '0'});
    try (RawHttp2Client client = client()) {
      client.sendRaw(frame(HEADERS, END_HEADERS, 1, post));
      // Forwarded at once, not held back for the end a request without a body usually brings along.
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests().size() == 1);
      client.sendRaw(frame(DATA, END_STREAM, 1, new byte[0]));
      client.readUntil(c -> c.ended(1));
      assertThat(client.status(1)).isEqualTo("200");
    }
    assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/zero");
  }

  @Test
  void aStreamResetAsItsHeaderBlockWasReadIsNotOpenedByTheNextHeadersNotEvenAsTheConnectionCloses()
      throws Exception {
    // A regular field before the pseudo-header fields: Netty resets stream 1 as it decodes the block,
    // before the stream exists, so it would take the next HEADERS on stream 1 for a new request.
    // Meridian ends the connection there, and the frames from the refused one on are never decoded
    // (they were, and the request they make reached the backend).
    byte[] malformed = concat(RawHttp2Client.literalIndexed("x-a", "1"), RawHttp2Client.getBlock("/refused"));
    try (RawHttp2Client client = client()) {
      client.sendRaw(concat(frame(HEADERS, END_HEADERS, 1, malformed),
          frame(HEADERS, END_HEADERS, 1, RawHttp2Client.getBlock("/smuggled")),
          frame(HEADERS, END_HEADERS | END_STREAM, 1, new byte[0])));
      try {
        client.readUntil(c -> c.closed());
      } catch (SocketException e) {
        // The proxy closed with the client's last frame unread: a TCP reset after the GOAWAY.
      }
      assertThat(client.resetError(1)).isEqualTo(PROTOCOL_ERROR);
      assertThat(client.goAwayError()).isEqualTo(STREAM_CLOSED);
    }
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3)).until(() -> backend.requests().isEmpty());
  }

  /**
   * RFC 9113 section 6.9: a WINDOW_UPDATE of 0 on a stream is a stream error PROTOCOL_ERROR, also on a
   * stream the client already ended (half-closed), where HEADERS would be STREAM_CLOSED.
   */
  @Test
  void aZeroWindowUpdateOnAHalfClosedStreamIsAStreamErrorProtocolError() throws Exception {
    java.util.concurrent.CompletableFuture<TestBackend.Reply> held = new java.util.concurrent.CompletableFuture<>();
    try (TestBackend holding = TestBackend.start(request -> request.uri().equals("/held")
            ? TestBackend.Reply.when(held) : TestBackend.Reply.ok("fine"));
        ForwardingProxy holdingProxy = ForwardingProxy.to(holding.address()).start();
        RawHttp2Client client = new RawHttp2Client(holdingProxy.port()).lenient()) {
      client.get(1, "/held");
      await().atMost(Duration.ofSeconds(5)).until(() -> holding.requests().size() == 1);
      client.windowUpdate(1, 0);
      client.readUntil(c -> c.resetError(1) != null);
      assertThat(client.resetError(1)).isEqualTo(PROTOCOL_ERROR);
      client.get(3, "/after");
      client.readUntil(c -> c.ended(3));
      assertThat(client.status(3)).isEqualTo("200");
      assertThat(client.goAwayError()).isNull();
    } finally {
      held.complete(TestBackend.Reply.status(503));
    }
  }

  /**
   * A header block Netty refuses as it decodes it (an upper-case name) resets that stream before it
   * exists; the DATA, WINDOW_UPDATE and RST_STREAM the client sent after it on that stream are
   * ignored (RFC 9113 section 5.1), not taken for frames on a stream that was never opened, which
   * would end the connection and every other client's stream on it.
   */
  @Test
  void framesAfterAHeaderBlockRefusedAsItWasDecodedAreIgnoredAndOtherStreamsGoOn() throws Exception {
    try (RawHttp2Client client = client()) {
      client.send(HEADERS, END_HEADERS, 1, RawHttp2Client.postBlock("/upload", 4));
      client.send(DATA, 0, 1, "ab".getBytes(StandardCharsets.US_ASCII));
      byte[] refused = concat(RawHttp2Client.postBlock("/refused", 2), RawHttp2Client.literalIndexed("X-Upper", "1"));
      client.sendRaw(concat(frame(HEADERS, END_HEADERS, 3, refused),
          frame(DATA, 0, 3, "xy".getBytes(StandardCharsets.US_ASCII)),
          frame(0x8, 0, 3, new byte[] {0, 0, 0x10, 0}), // WINDOW_UPDATE
          frame(DATA, END_STREAM, 3, new byte[0]),
          frame(0x3, 0, 3, new byte[] {0, 0, 0, 0x8}))); // RST_STREAM CANCEL
      client.readUntil(c -> c.resetError(3) != null);
      assertThat(client.resetError(3)).isEqualTo(PROTOCOL_ERROR);

      client.send(DATA, END_STREAM, 1, "cd".getBytes(StandardCharsets.US_ASCII));
      client.readUntil(c -> c.ended(1) || c.closed());
      assertThat(client.goAwayError()).isNull();
      assertThat(client.status(1)).isEqualTo("200");
      client.get(5, "/after");
      client.readUntil(c -> c.ended(5) || c.closed());
      assertThat(client.status(5)).isEqualTo("200");
    }
    assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/upload", "/after");
  }

  /**
   * The same with DATA frames that arrive in pieces over several reads, and more of them than the
   * connection's initial window: each is dropped as it arrives, its bytes are given back to the
   * client's connection window, and the connection goes on.
   */
  @Test
  void dataFramesSplitOverReadsOnARefusedStreamAreDroppedAndTheirWindowGivenBack() throws Exception {
    try (RawHttp2Client client = client()) {
      byte[] refused = concat(RawHttp2Client.postBlock("/refused", 80_000), RawHttp2Client.literalIndexed("X-Upper", "1"));
      client.sendRaw(frame(HEADERS, END_HEADERS, 3, refused));
      client.readUntil(c -> c.resetError(3) != null);
      for (int i = 0; i < 5; i++) {
        byte[] data = frame(DATA, i == 4 ? END_STREAM : 0, 3, new byte[16_000]);
        client.sendRaw(Arrays.copyOfRange(data, 0, 5)); // part of the frame header
        pace();
        client.sendRaw(Arrays.copyOfRange(data, 5, 7000));
        pace();
        client.sendRaw(Arrays.copyOfRange(data, 7000, data.length));
      }
      // Netty gives a connection's window back in steps of half its size (32 KiB here): at least 64
      // KiB of the 80 KB came back, more than the initial window the client had spent.
      client.readUntil(c -> c.windowGranted(0) >= 64_000 || c.closed());
      assertThat(client.windowGranted(0)).as("connection window given back").isGreaterThanOrEqualTo(64_000);
      client.get(5, "/after");
      client.readUntil(c -> c.ended(5) || c.closed());
      assertThat(client.goAwayError()).isNull();
      assertThat(client.status(5)).isEqualTo("200");
    }
    assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/after");
  }

  /** Paces the client's writes so the proxy reads each piece apart (what is tested is the split, not a time). */
  private static void pace() {
    java.util.concurrent.locks.LockSupport.parkNanos(java.time.Duration.ofMillis(30).toNanos());
  }

  @Test
  void lateHeadersOnAStreamMeridianResetAreIgnored() throws Exception {
    try (RawHttp2Client client = client()) {
      byte[] block = bomb(100);
      client.send(HEADERS, END_HEADERS, 1, block); // no END_STREAM: the client would go on sending
      client.readUntil(c -> c.resetError(1) != null);
      // Trailers the client sent before the reset reached it: not a reason to end the connection.
      client.send(HEADERS, END_HEADERS | END_STREAM, 1, new byte[] {0x00, 0x01, 'a', 0x01, 'b'});
      client.get(3, "/after-reset");
      client.readUntil(c -> c.ended(3));
      assertThat(client.status(3)).isEqualTo("200");
      assertThat(client.goAwayError()).isNull();
    }
  }
}
