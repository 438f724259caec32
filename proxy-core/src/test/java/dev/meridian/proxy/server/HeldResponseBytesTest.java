package dev.meridian.proxy.server;

import static dev.meridian.proxy.testing.RawHttp2Client.frame;
import static dev.meridian.proxy.testing.RawHttp2Client.getBlock;
import static dev.meridian.proxy.testing.RawHttp2Client.setting;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttp2Client;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link HeldResponseBytes} under Netty's own flow controller and frame codec: it counts what the
 * controller holds back for a client whose stream windows are closed, follows every way those
 * bytes leave (a window opened, a stream reset by the client, the connection closed), and says
 * when the budget is reached and when half of it has left again.
 */
class HeldResponseBytesTest {
  private static final int BUDGET = 10_000;
  private static final int WINDOW_UPDATE = 8;
  private static final int RST_STREAM = 3;

  private HeldResponseBytes held;
  private EmbeddedChannel channel;
  private final Map<Integer, Http2FrameStream> streams = new HashMap<>();
  private int crossings;

  /** Netty's server codec on a connection whose stream byte distributor is seen through the counter. */
  private final class CountedCodecBuilder extends Http2FrameCodecBuilder {
    CountedCodecBuilder() {
      DefaultHttp2Connection connection = new DefaultHttp2Connection(true);
      held = new HeldResponseBytes(connection, new UniformStreamByteDistributor(connection), BUDGET);
      connection.remote().flowController(new DefaultHttp2RemoteFlowController(connection, held));
      connection(connection);
      gracefulShutdownTimeoutMillis(0); // a close closes now, as the socket's end would
    }
  }

  @BeforeEach
  void open() {
    channel = new EmbeddedChannel(new CountedCodecBuilder().build());
    held.onBudgetCrossed(() -> crossings++);
    // The client sets every stream window to 0, opens the connection's wide and sends two requests.
    fromClient("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    fromClient(frame(4, 0, 0, setting(0x4, 0)));
    fromClient(frame(WINDOW_UPDATE, 0, 0, ByteBuffer.allocate(4).putInt(1 << 30).array()));
    fromClient(frame(RawHttp2Client.HEADERS, RawHttp2Client.END_STREAM | RawHttp2Client.END_HEADERS, 1, getBlock("/a")));
    fromClient(frame(RawHttp2Client.HEADERS, RawHttp2Client.END_STREAM | RawHttp2Client.END_HEADERS, 3, getBlock("/b")));
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      if (msg instanceof Http2HeadersFrame headers) {
        streams.put(headers.stream().id(), headers.stream());
      }
      ReferenceCountUtil.release(msg);
    }
    assertThat(streams).containsOnlyKeys(1, 3);
  }

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  private void fromClient(byte[] bytes) {
    channel.writeInbound(Unpooled.wrappedBuffer(bytes));
    drainOutbound();
  }

  private void drainOutbound() {
    Object msg;
    while ((msg = channel.readOutbound()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }

  /** A response head on each stream, as the relay writes them. */
  private void respondOnBoth() {
    for (Http2FrameStream stream : streams.values()) {
      channel.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")).stream(stream));
    }
    channel.flush();
    drainOutbound();
  }

  /** {@code bytes} of response body on the stream. */
  private void send(int stream, int bytes) {
    channel.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[bytes])).stream(streams.get(stream)));
    drainOutbound();
  }

  private static byte[] increment(int bytes) {
    return ByteBuffer.allocate(4).putInt(bytes).array();
  }

  @Test
  void countsWhatClosedWindowsHoldBackAndWhatTheClientTakes() {
    respondOnBoth();
    assertThat(held.bytes()).as("a head is not flow-controlled").isZero();
    send(1, 6_000);
    send(3, 3_000);
    assertThat(held.bytes()).isEqualTo(9_000);
    assertThat(held.underBudget()).isTrue();
    assertThat(crossings).isZero();

    fromClient(frame(WINDOW_UPDATE, 0, 1, increment(2_500)));
    assertThat(held.bytes()).as("2,500 of stream 1's bytes left").isEqualTo(6_500);

    send(3, 4_000);
    assertThat(held.bytes()).isEqualTo(10_500);
    assertThat(held.underBudget()).isFalse();
    assertThat(crossings).as("the budget reached").isEqualTo(1);

    fromClient(frame(WINDOW_UPDATE, 0, 3, increment(1_000)));
    assertThat(held.bytes()).isEqualTo(9_500);
    assertThat(held.underBudget()).as("full until half the budget has left").isFalse();
    assertThat(crossings).isEqualTo(1);

    fromClient(frame(WINDOW_UPDATE, 0, 1, increment(3_500)));
    assertThat(held.bytes()).isEqualTo(6_000);
    assertThat(held.underBudget()).isFalse();
    fromClient(frame(WINDOW_UPDATE, 0, 3, increment(1_500)));
    assertThat(held.bytes()).isEqualTo(4_500);
    assertThat(held.underBudget()).isTrue();
    assertThat(crossings).as("and left").isEqualTo(2);
  }

  @Test
  void aResetStreamsBytesAreNoLongerHeld() {
    respondOnBoth();
    send(1, 6_000);
    send(3, 5_000);
    assertThat(crossings).isEqualTo(1);

    fromClient(frame(RST_STREAM, 0, 3, increment(0x8))); // CANCEL
    assertThat(held.bytes()).isEqualTo(6_000);
    assertThat(crossings).as("still over half the budget").isEqualTo(1);
    fromClient(frame(RST_STREAM, 0, 1, increment(0x8)));
    assertThat(held.bytes()).isZero();
    assertThat(held.underBudget()).isTrue();
    assertThat(crossings).isEqualTo(2);
  }

  @Test
  void theConnectionsCloseLeavesNothingHeld() {
    respondOnBoth();
    send(1, 6_000);
    send(3, 5_000);
    channel.close();
    assertThat(held.bytes()).isZero();
  }
}
