package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawTcpBackend;
import dev.meridian.proxy.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 rapid reset (CVE-2023-44487) and its "MadeYouReset" variant: streams a client opens and
 * resets, or makes the server reset, within one write must cost the backends nothing: no request,
 * no connection. A client that makes Meridian reset more than 200 of its streams in 30 seconds loses
 * its connection; resets that are not the client's doing (a backend that cut its answer off, an upload
 * answered early) never count.
 */
class Http2RapidResetTest {

  private static byte[] rstStream(int stream, int errorCode) {
    return RawHttp2Client.frame(3, 0, stream, ByteBuffer.allocate(4).putInt(errorCode).array());
  }

  /** A WINDOW_UPDATE of 0 on a stream: a stream error the server answers with RST_STREAM. */
  private static byte[] zeroWindowUpdate(int stream) {
    return RawHttp2Client.frame(8, 0, stream, new byte[4]);
  }

  @Test
  void streamsOpenedAndResetInOneWriteNeverReachABackend() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("served"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      ByteArrayOutputStream burst = new ByteArrayOutputStream();
      int stream = 1;
      for (int i = 0; i < 90; i++, stream += 2) {
        burst.writeBytes(RawHttp2Client.frame(RawHttp2Client.HEADERS,
            RawHttp2Client.END_STREAM | RawHttp2Client.END_HEADERS, stream, RawHttp2Client.getBlock("/reset/" + i)));
        burst.writeBytes(i % 2 == 0 ? rstStream(stream, RawHttp2Client.CANCEL) : zeroWindowUpdate(stream));
      }
      h2.sendRaw(burst.toByteArray());
      // A request of its own, sent after the burst on the same connection: when it is answered, the
      // burst was read long before.
      int last = stream;
      h2.get(last, "/after");
      h2.readUntil(c -> c.ended(last));

      assertThat(h2.status(last)).isEqualTo("200");
      assertThat(backend.requests()).extracting(TestBackend.Request::uri).containsExactly("/after");
      assertThat(backend.connectionCount()).as("one connection, for the last request only").isEqualTo(1);
      assertThat(h2.goAwayError()).isNull();
    }
  }

  private static final long STREAM_CLOSED = 0x5;
  private static final long ENHANCE_YOUR_CALM = 0xb;

  /** Opens a POST that stays open (its body never comes): a stream the client can make Meridian reset. */
  private static byte[] openPost(int stream) {
    return RawHttp2Client.frame(RawHttp2Client.HEADERS, RawHttp2Client.END_HEADERS, stream,
        RawHttp2Client.postBlock("/upload", 10));
  }

  @Test
  void aClientThatProvokesMoreThan200ResetsLosesItsConnection() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("served"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      int stream = 1;
      for (int burst = 0; burst < 6 && !h2.closed(); burst++) {
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        for (int i = 0; i < 50; i++, stream += 2) {
          frames.writeBytes(openPost(stream));
          frames.writeBytes(zeroWindowUpdate(stream));
        }
        h2.sendRaw(frames.toByteArray());
        int last = stream - 2;
        h2.readUntil(c -> c.resetError(last) != null || c.goAwayError() != null);
      }
      h2.readUntil(c -> c.goAwayError() != null);
      assertThat(h2.goAwayError()).isEqualTo(ENHANCE_YOUR_CALM);
    }
  }

  @Test
  void aBackendThatCutsItsAnswersOffDoesNotEndTheClientsConnection() throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          RawTcpBackend.readHead(socket.getInputStream());
          socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"
              .getBytes(StandardCharsets.US_ASCII));
          socket.getOutputStream().flush();
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      for (int stream = 1; stream <= 2 * 250; stream += 2) {
        int s = stream;
        h2.get(s, "/cut/" + s);
        h2.readUntil(c -> c.resetError(s) != null || c.goAwayError() != null);
        assertThat(h2.resetError(s)).as("stream %d: cut off, INTERNAL_ERROR", s).isEqualTo(2L);
      }
      assertThat(h2.goAwayError()).as("250 backend failures are not the client's doing").isNull();
      assertThat(h2.closed()).isFalse();
    }
  }

  @Test
  void framesAnUploadHadInFlightWhenItWasAnsweredEarlyAreIgnored() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("served"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("limits.max-request-body = 1KiB").start();
        RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      byte[] part = new byte[1000];
      int stream = 1;
      for (int i = 0; i < 250; i++, stream += 2) {
        int s = stream;
        h2.sendRaw(RawHttp2Client.frame(RawHttp2Client.HEADERS, RawHttp2Client.END_HEADERS, s,
            RawHttp2Client.postBlock("/upload", 100_000)));
        h2.readUntil(c -> c.ended(s) || c.goAwayError() != null);
        assertThat(h2.status(s)).isEqualTo("413");
        // The client had these on their way before the 413 reached it.
        ByteArrayOutputStream late = new ByteArrayOutputStream();
        for (int k = 0; k < 3; k++) {
          late.writeBytes(RawHttp2Client.frame(RawHttp2Client.DATA, 0, s, part));
        }
        h2.sendRaw(late.toByteArray());
      }
      // A hundred uploads at once, each answered early, then their in-flight frames together: more
      // streams than a short memory of resets would hold.
      int firstOfBurst = stream;
      ByteArrayOutputStream heads = new ByteArrayOutputStream();
      for (int i = 0; i < 100; i++, stream += 2) {
        heads.writeBytes(RawHttp2Client.frame(RawHttp2Client.HEADERS, RawHttp2Client.END_HEADERS, stream,
            RawHttp2Client.postBlock("/upload", 100_000)));
      }
      h2.sendRaw(heads.toByteArray());
      int lastOfBurst = stream - 2;
      h2.readUntil(c -> c.ended(lastOfBurst) || c.goAwayError() != null);
      ByteArrayOutputStream burst = new ByteArrayOutputStream();
      for (int s = firstOfBurst; s <= lastOfBurst; s += 2) {
        for (int k = 0; k < 3; k++) {
          burst.writeBytes(RawHttp2Client.frame(RawHttp2Client.DATA, 0, s, part));
        }
      }
      h2.sendRaw(burst.toByteArray());
      int last = stream;
      h2.get(last, "/after");
      h2.readUntil(c -> c.ended(last) || c.goAwayError() != null);
      assertThat(h2.status(last)).isEqualTo("200");
      assertThat(h2.goAwayError()).isNull();
      for (int s = 1; s < last; s += 2) {
        assertThat(h2.resetError(s)).as("stream %d: no STREAM_CLOSED for frames it had in flight", s)
            .isNotEqualTo(STREAM_CLOSED);
      }
    }
  }
}
