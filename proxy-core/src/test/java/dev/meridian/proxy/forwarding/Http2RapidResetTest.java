package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 rapid reset (CVE-2023-44487) and its "MadeYouReset" variant: streams a client opens and
 * resets, or makes the server reset, within one write must cost the backends nothing: no request,
 * no connection.
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
}
