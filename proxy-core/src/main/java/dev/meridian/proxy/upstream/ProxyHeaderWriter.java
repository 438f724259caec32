package dev.meridian.proxy.upstream;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Opens an upstream connection with a PROXY protocol header: the first bytes on the wire, before a TLS
 * ClientHello or the request, whichever is written first (a connect's listeners may write before the
 * pipeline hears {@code channelActive}). Netty's {@link HAProxyMessageEncoder} frames it; then the
 * writer and the encoder leave the pipeline.
 *
 * <p>The header names the client and the address it connected to. Both IPv4: {@code TCP4}; either
 * IPv6: {@code TCP6}, the IPv4 one as an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}), as HAProxy
 * does. Without a client (a health check, or an address not known): v1 {@code PROXY UNKNOWN} and v2
 * {@code LOCAL}, which tell the backend to take the connection's own addresses, as HAProxy's
 * {@code check-send-proxy} does.
 *
 * <pre>
 *  [proxy-protocol-encoder]  HAProxyMessageEncoder      (nearest the socket)
 *  [proxy-protocol-header]   ProxyHeaderWriter
 *  [tls] [codec] ...         what the connection speaks
 * </pre>
 *
 * <p>Used on the connection's event loop only.
 */
public final class ProxyHeaderWriter extends ChannelDuplexHandler {
  /** The writer's name in the upstream pipeline. */
  public static final String NAME = "proxy-protocol-header";
  /** The encoder's name in the upstream pipeline. */
  public static final String ENCODER = "proxy-protocol-encoder";
  private static final byte[] V1_UNKNOWN = "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);

  private final UpstreamProxyProtocol version;
  private final ClientConnection client;
  private boolean sent;

  private ProxyHeaderWriter(UpstreamProxyProtocol version, ClientConnection client) {
    this.version = version;
    this.client = client;
  }

  /**
   * Adds the encoder and a writer at the end of a pipeline being built, before anything that writes
   * (TLS, a codec).
   *
   * @param client the client the header names, or null for a connection of Meridian's own (a health
   *               check): then {@code PROXY UNKNOWN} (v1) or {@code LOCAL} (v2)
   */
  public static void install(ChannelPipeline pipeline, UpstreamProxyProtocol version, ClientConnection client) {
    if (!version.sends()) {
      throw new IllegalArgumentException("proxy-protocol: none sends no header");
    }
    pipeline.addLast(ENCODER, HAProxyMessageEncoder.INSTANCE).addLast(NAME, new ProxyHeaderWriter(version, client));
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (!sent) {
      send(ctx);
      ctx.flush();
    }
    ctx.fireChannelActive();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!sent) {
      send(ctx);
    }
    ctx.write(msg, promise);
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    if (!sent) {
      send(ctx);
    }
    ctx.flush();
  }

  /** Writes the header through the encoder, then takes both out of the pipeline. */
  private void send(ChannelHandlerContext ctx) {
    sent = true;
    ctx.write(header(version, client)).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    ctx.pipeline().remove(ENCODER);
    ctx.pipeline().remove(this);
  }

  /**
   * The header for a connection on behalf of {@code client}: an {@link HAProxyMessage} for the encoder,
   * or for v1 without known addresses the bytes of {@code PROXY UNKNOWN} (which Netty's encoder cannot
   * frame).
   */
  static Object header(UpstreamProxyProtocol version, ClientConnection client) {
    InetAddress source = client == null || client.source() == null ? null : client.source().getAddress();
    InetAddress destination = client == null || client.destination() == null
        ? null : client.destination().getAddress();
    if (source == null || destination == null) {
      return version == UpstreamProxyProtocol.V1 ? Unpooled.wrappedBuffer(V1_UNKNOWN)
          : new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN,
              null, null, 0, 0);
    }
    boolean ipv4 = source instanceof Inet4Address && destination instanceof Inet4Address;
    return new HAProxyMessage(version.version(), HAProxyCommand.PROXY,
        ipv4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
        text(source, ipv4), text(destination, ipv4), client.source().getPort(), client.destination().getPort());
  }

  /** An address as the header writes it: an IPv4 one beside an IPv6 one is written IPv4-mapped. */
  private static String text(InetAddress address, boolean ipv4Header) {
    if (!ipv4Header && address instanceof Inet4Address) {
      return "::ffff:" + address.getHostAddress();
    }
    return NetUtil.toAddressString(address);
  }
}
