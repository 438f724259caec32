package dev.meridian.proxy.upstream;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/**
 * The PROXY header written ahead of everything else on an upstream connection, as bytes on the wire:
 * IPv4 and IPv6 families, a mixed pair as HAProxy writes it, and the header of a connection without a
 * client.
 */
class ProxyHeaderWriterTest {
  private static final String V2_SIGNATURE = "0d0a0d0a000d0a515549540a";

  private static ClientConnection client(String source, int sourcePort, String destination, int destinationPort) {
    return new ClientConnection(null, new InetSocketAddress(source, sourcePort),
        new InetSocketAddress(destination, destinationPort));
  }

  /** What goes out when {@code request} is written on a new connection, as hex (v2) or text (v1). */
  private static String[] wire(UpstreamProxyProtocol version, ClientConnection client) {
    EmbeddedChannel channel = new EmbeddedChannel();
    ProxyHeaderWriter.install(channel.pipeline(), version, client);
    channel.writeAndFlush(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", US_ASCII));
    ByteBuf header = channel.readOutbound();
    ByteBuf request = channel.readOutbound();
    try {
      assertThat(request.toString(US_ASCII)).isEqualTo("GET / HTTP/1.1\r\n\r\n");
      assertThat(channel.pipeline().get(ProxyHeaderWriter.NAME)).as("the writer left").isNull();
      assertThat(channel.pipeline().get(ProxyHeaderWriter.ENCODER)).as("the encoder left").isNull();
      return new String[] {ByteBufUtil.hexDump(header), header.toString(US_ASCII)};
    } finally {
      header.release();
      request.release();
      channel.finishAndReleaseAll();
    }
  }

  @Test
  void ipv4IsTcp4() {
    ClientConnection c = client("203.0.113.7", 40000, "192.0.2.1", 80);
    assertThat(wire(UpstreamProxyProtocol.V1, c)[1]).isEqualTo("PROXY TCP4 203.0.113.7 192.0.2.1 40000 80\r\n");
    assertThat(wire(UpstreamProxyProtocol.V2, c)[0]).isEqualTo(V2_SIGNATURE + "21" + "11" + "000c"
        + "cb007107" + "c0000201" + "9c40" + "0050");
  }

  @Test
  void ipv6IsTcp6AndAnIpv4AddressBesideOneIsWrittenIpv4Mapped() {
    ClientConnection both = client("2001:db8::7", 40000, "2001:db8::1", 443);
    assertThat(wire(UpstreamProxyProtocol.V1, both)[1]).isEqualTo("PROXY TCP6 2001:db8::7 2001:db8::1 40000 443\r\n");
    ClientConnection mixed = client("203.0.113.7", 40000, "2001:db8::1", 443);
    assertThat(wire(UpstreamProxyProtocol.V1, mixed)[1])
        .isEqualTo("PROXY TCP6 ::ffff:203.0.113.7 2001:db8::1 40000 443\r\n");
    assertThat(wire(UpstreamProxyProtocol.V2, mixed)[0]).isEqualTo(V2_SIGNATURE + "21" + "21" + "0024"
        + "00000000000000000000ffffcb007107" + "20010db8000000000000000000000001" + "9c40" + "01bb");
  }

  @Test
  void withoutAClientV1SaysUnknownAndV2Local() {
    assertThat(wire(UpstreamProxyProtocol.V1, null)[1]).isEqualTo("PROXY UNKNOWN\r\n");
    assertThat(wire(UpstreamProxyProtocol.V2, null)[0]).isEqualTo(V2_SIGNATURE + "20" + "00" + "0000");
  }

  @Test
  void onAConnectionThatBecomesActiveTheHeaderGoesFirstWithoutWaitingForAWrite() throws Exception {
    EmbeddedChannel channel = new EmbeddedChannel(false, false);
    ProxyHeaderWriter.install(channel.pipeline(), UpstreamProxyProtocol.V1, client("10.0.0.1", 1, "10.0.0.2", 2));
    channel.register();
    ByteBuf header = channel.readOutbound();
    try {
      assertThat(header.toString(US_ASCII)).isEqualTo("PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n");
    } finally {
      header.release();
      channel.finishAndReleaseAll();
    }
  }
}
