package dev.meridian.proxy.upstream;

import dev.meridian.balancer.Backend;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream connection: hands what the backend sends to the request that is
 * using the connection, and, while the connection idles in its pool, closes it on any unexpected
 * byte, on the backend's close, or after the idle timeout.
 *
 * <p>Used only on the connection's event loop.
 */
public final class BackendHandler extends ChannelInboundHandlerAdapter {
  /** The handler's name in the upstream pipeline. */
  public static final String NAME = "backend";

  private final Backend backend;
  private final UpstreamPool pool;
  private UpstreamListener listener;
  private int uses;

  BackendHandler(Backend backend, UpstreamPool pool) {
    this.backend = backend;
    this.pool = pool;
  }

  /** The handler of an upstream channel. */
  public static BackendHandler of(Channel channel) {
    return (BackendHandler) channel.pipeline().get(NAME);
  }

  /** The backend this connection goes to. */
  public Backend backend() {
    return backend;
  }

  /** Whether this connection served a request before the current one (was reused from the pool). */
  public boolean isReused() {
    return uses > 1;
  }

  /** Hands the connection to a request; events go to the listener until {@link #detach()}. */
  void attach(UpstreamListener newListener) {
    this.listener = newListener;
    uses++;
  }

  /** Takes the connection away from its request (it goes back to the pool or is closed). */
  public void detach() {
    this.listener = null;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    UpstreamListener current = listener;
    if (current != null) {
      current.onUpstreamMessage(msg);
    } else {
      // A backend must not speak on an idle connection: whatever it is, the connection is unusable.
      ReferenceCountUtil.release(msg);
      ctx.close();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    UpstreamListener current = listener;
    if (current != null) {
      current.onUpstreamReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    UpstreamListener current = listener;
    if (current != null) {
      current.onUpstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    UpstreamListener current = listener;
    listener = null;
    pool.forget(ctx.channel(), backend);
    if (current != null) {
      current.onUpstreamClosed(null);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      UpstreamListener current = listener;
      if (current == null) {
        ctx.close();
      } else {
        current.onUpstreamIdle();
      }
      return;
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    UpstreamListener current = listener;
    listener = null;
    if (current != null) {
      current.onUpstreamClosed(cause);
    }
    ctx.close();
  }
}
