package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@link ProxyProtocolReader} on a connection that reads on demand (auto-read off, as Meridian's
 * client connections are): a header that arrives alone, or in pieces, is followed by a read for what
 * comes next, so a request sent in a later packet than the header is not left waiting.
 */
class ProxyProtocolReaderTest {
  private static final String HEADER = "PROXY TCP4 203.0.113.7 192.0.2.1 40000 80\r\n";

  /** Counts the reads asked of the channel by the handlers after it. */
  private static final class ReadCounter extends ChannelOutboundHandlerAdapter {
    int reads;

    @Override
    public void read(ChannelHandlerContext ctx) {
      reads++;
      ctx.read();
    }
  }

  private static EmbeddedChannel connection(ReadCounter counter) {
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.config().setAutoRead(false);
    channel.pipeline().addFirst(counter);
    ProxyProtocolReader.install(channel);
    return channel;
  }

  @Test
  void aHeaderThatArrivesAloneIsFollowedByARead() {
    ReadCounter counter = new ReadCounter();
    EmbeddedChannel channel = connection(counter);
    channel.writeInbound(Unpooled.copiedBuffer(HEADER, StandardCharsets.US_ASCII));
    assertThat(counter.reads).as("a read for the request after the header").isPositive();
    assertThat(channel.attr(ProxyProtocolReader.CLIENT).get()).isEqualTo(new InetSocketAddress("203.0.113.7", 40000));
    assertThat(channel.pipeline().get(ProxyProtocolReader.DECODER)).as("the decoder left").isNull();
    assertThat(channel.finishAndReleaseAll()).isFalse();
  }

  @Test
  void aHeaderInPiecesIsReadToItsEnd() {
    ReadCounter counter = new ReadCounter();
    EmbeddedChannel channel = connection(counter);
    channel.writeInbound(Unpooled.copiedBuffer(HEADER.substring(0, 20), StandardCharsets.US_ASCII));
    assertThat(counter.reads).as("a read for the rest of the header").isPositive();
    int before = counter.reads;
    channel.writeInbound(Unpooled.copiedBuffer(HEADER.substring(20), StandardCharsets.US_ASCII));
    assertThat(counter.reads).as("then one for the request").isGreaterThan(before);
    assertThat(channel.attr(ProxyProtocolReader.CLIENT).get()).isEqualTo(new InetSocketAddress("203.0.113.7", 40000));
    channel.finishAndReleaseAll();
  }

  @Test
  void bytesThatCameWithTheHeaderArePassedOn() {
    EmbeddedChannel channel = connection(new ReadCounter());
    channel.writeInbound(Unpooled.copiedBuffer(HEADER + "GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII));
    io.netty.buffer.ByteBuf rest = channel.readInbound();
    try {
      assertThat(rest.toString(StandardCharsets.US_ASCII)).isEqualTo("GET / HTTP/1.1\r\n");
    } finally {
      rest.release();
    }
    channel.finishAndReleaseAll();
  }
}
