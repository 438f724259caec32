package dev.meridian.proxy.server;

import dev.meridian.proxy.transport.IdleTimeoutHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Relays raw bytes between a client and a backend after a protocol switch (WebSocket and any other
 * Upgrade the route allows): what one side sends is written to the other, reading one side only
 * while the other can take more, and closing both when either closes or idles (the route's tunnel
 * idle timeout, which replaces both connections' own idle timeouts at the switch).
 */
final class TunnelHandler extends ChannelInboundHandlerAdapter {
  static final String NAME = "tunnel";
  /** The idle timeout's name in both connections' pipelines. */
  private static final String IDLE = "idle";

  private final Channel peer;
  private List<Object> held = new ArrayList<>();
  /** Bytes passed on to the peer (read on the event loop both channels share). */
  private long relayed;

  private TunnelHandler(Channel peer) {
    this.peer = peer;
  }

  /** The two directions of a tunnel, for its access log line. */
  record Tunnel(TunnelHandler toBackend, TunnelHandler toClient) {
    /** Bytes the client sent through the tunnel so far. */
    long bytesToBackend() {
      return toBackend.relayed;
    }

    /** Bytes the backend sent through the tunnel so far. */
    long bytesToClient() {
      return toClient.relayed;
    }
  }

  /**
   * Turns both HTTP connections into a byte relay: HTTP handlers are removed, and bytes their decoders
   * had already read are passed on, after the switch, in order. Each connection is then closed (and
   * with it the other) once nothing passed through it either way for {@code idle}. The two
   * connections run on one event loop (an upstream connection is taken from its client's loop's pool).
   */
  static Tunnel splice(Channel client, Channel upstream, Duration idle) {
    TunnelHandler toUpstream = new TunnelHandler(upstream);
    TunnelHandler toClient = new TunnelHandler(client);
    install(client.pipeline(), toUpstream, FrontendHandler.NAME, idle);
    install(upstream.pipeline(), toClient, dev.meridian.proxy.upstream.BackendHandler.NAME, idle);
    toUpstream.start(client);
    toClient.start(upstream);
    return new Tunnel(toUpstream, toClient);
  }

  private static void install(ChannelPipeline pipeline, TunnelHandler tunnel, String httpHandler, Duration idle) {
    IdleTimeoutHandler timeout = new IdleTimeoutHandler(idle.toNanos(), TimeUnit.NANOSECONDS);
    if (pipeline.get(IDLE) != null) {
      pipeline.replace(IDLE, IDLE, timeout);
    } else {
      pipeline.addFirst(IDLE, timeout);
    }
    pipeline.addLast(NAME, tunnel);
    pipeline.remove(httpHandler);
    pipeline.remove("codec");
  }

  private void start(Channel self) {
    List<Object> pending = held;
    held = null;
    for (Object msg : pending) {
      relay(msg);
    }
    peer.flush();
    self.config().setAutoRead(false);
    self.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (held != null) {
      held.add(msg);
    } else if (peer.isActive()) {
      relay(msg);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void relay(Object msg) {
    if (msg instanceof ByteBuf bytes) {
      relayed += bytes.readableBytes();
    }
    peer.write(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (held != null) {
      return;
    }
    peer.flush();
    if (peer.isWritable()) {
      ctx.read();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable() && held == null) {
      peer.read();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (peer.isActive()) {
      peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      ctx.close();
      return;
    }
    if (evt instanceof ChannelInputShutdownEvent) {
      // The client finished sending: pass the half-close on, so the backend sees the end of input.
      if (peer instanceof DuplexChannel duplex && peer.isActive()) {
        peer.flush();
        duplex.shutdownOutput();
      } else {
        peer.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (held != null) {
      held.forEach(ReferenceCountUtil::release);
      held.clear();
    }
  }
}
