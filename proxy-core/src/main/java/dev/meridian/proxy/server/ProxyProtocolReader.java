package dev.meridian.proxy.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Reads the PROXY protocol header (v1 or v2) a trusted load balancer opens a connection with, and
 * records the client address it names as the connection's client ({@link #CLIENT}) and the address
 * the client connected to ({@link #DESTINATION}, which a backend group's own PROXY header passes on),
 * then leaves the pipeline with Netty's decoder. A header that is not valid closes the connection; a
 * {@code LOCAL} one (the balancer's own health check) or one for an unknown protocol leaves the
 * balancer as the client.
 */
final class ProxyProtocolReader extends ChannelInboundHandlerAdapter {
  /** The client a PROXY protocol header named, on the connection it came on. */
  static final AttributeKey<InetSocketAddress> CLIENT = AttributeKey.valueOf("meridian.proxy-protocol.client");
  /** The address the client connected to, as the PROXY protocol header named it. */
  static final AttributeKey<InetSocketAddress> DESTINATION =
      AttributeKey.valueOf("meridian.proxy-protocol.destination");
  static final String DECODER = "proxy-protocol";
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProxyProtocolReader.class);

  private boolean refused;

  private ProxyProtocolReader() {}

  /** Adds the decoder and this reader at the end of the connection's pipeline. */
  static void install(Channel channel) {
    channel.pipeline().addLast(DECODER, new HAProxyMessageDecoder()).addLast("proxy-protocol-reader",
        new ProxyProtocolReader());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HAProxyMessage header)) {
      ctx.fireChannelRead(msg);
      return;
    }
    try {
      if (header.command() == HAProxyCommand.PROXY && header.proxiedProtocol() != HAProxyProxiedProtocol.UNKNOWN
          && header.sourceAddress() != null) {
        InetAddress address = InetAddress.getByName(header.sourceAddress());
        InetAddress destination = InetAddress.getByName(header.destinationAddress());
        ctx.channel().attr(CLIENT).set(new InetSocketAddress(address, header.sourcePort()));
        ctx.channel().attr(DESTINATION).set(new InetSocketAddress(destination, header.destinationPort()));
      }
    } catch (UnknownHostException | IllegalArgumentException e) {
      log.info("{}: PROXY header names no usable client address ({}); connection closed",
          ctx.channel().remoteAddress(), e.getMessage());
      ctx.close();
      return;
    } finally {
      header.release();
    }
    ctx.pipeline().remove(this);
    // Reads are on demand: the request may come in a later packet than the header, and what reads
    // next (protocol detection, TLS) has not asked yet; bytes that came with the header are passed on
    // as the decoder leaves.
    ctx.read();
  }

  /** The header is not complete yet (it came in pieces): more is read. */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.fireChannelReadComplete();
    if (!refused) {
      ctx.read();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof io.netty.handler.codec.DecoderException) {
      if (!refused) { // the decoder may fail on each line still buffered: one log line a connection
        refused = true;
        log.info("{}: no valid PROXY protocol header ({}); connection closed", ctx.channel().remoteAddress(),
            cause.getMessage());
        ctx.close();
      }
      return;
    }
    ctx.fireExceptionCaught(cause);
  }
}
