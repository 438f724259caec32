package dev.meridian.proxy.upstream;

import dev.meridian.balancer.Backend;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.function.Consumer;

/**
 * The last handler of an upstream connection: hands what the backend sends to the request that is
 * using the connection, and, while the connection idles in its pool, closes it on any unexpected
 * byte, on the backend's close, or after the idle timeout.
 *
 * <p>On an HTTP/2 stream (one request, never pooled) it also tells the request why the backend ended
 * the stream early: not processed (GOAWAY, REFUSED_STREAM) or reset.
 *
 * <p>Used only on the connection's event loop.
 */
public final class BackendHandler extends ChannelInboundHandlerAdapter {
  /** The handler's name in the upstream pipeline. */
  public static final String NAME = "backend";
  /**
   * The handler, as an attribute of its channel: found per request without walking the pipeline by
   * name (which showed as 1% of the proxy's CPU under S1).
   */
  private static final AttributeKey<BackendHandler> HANDLER = AttributeKey.valueOf(BackendHandler.class, "handler");

  private final Backend backend;
  private final BackendLink link;
  /** The client connection this one is reserved for (it carries that client's PROXY header), or null. */
  private final Channel owner;
  private final Consumer<Channel> onClose;
  private UpstreamListener listener;
  private int uses;
  /** Why the backend ended the stream before the response ended, or null. */
  private Throwable streamEnded;

  /**
   * Creates the handler of one connection (HTTP/1.1) or stream (HTTP/2).
   *
   * @param backend        where the connection goes
   * @param link           how it is spoken to
   * @param owner          the client connection it is reserved for, or null when any request may use it
   * @param onClose        called once when the channel closes
   * @param reusedTransport the stream rides a connection that carried earlier requests
   */
  BackendHandler(Backend backend, BackendLink link, Channel owner, Consumer<Channel> onClose,
      boolean reusedTransport) {
    this.backend = backend;
    this.link = link;
    this.owner = owner;
    this.onClose = onClose;
    this.uses = reusedTransport ? 1 : 0;
  }

  /** The handler of an upstream channel, or null once it left the pipeline (a spliced tunnel). */
  public static BackendHandler of(Channel channel) {
    return channel.attr(HANDLER).get();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    ctx.channel().attr(HANDLER).set(this);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    ctx.channel().attr(HANDLER).compareAndSet(this, null);
  }

  /** The backend this connection goes to. */
  public Backend backend() {
    return backend;
  }

  /** How the connection speaks to its backend. */
  BackendLink link() {
    return link;
  }

  /**
   * The client connection this one is reserved for, or null: a connection whose PROXY protocol header
   * named a client serves only that client's requests.
   */
  Channel owner() {
    return owner;
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
    onClose.accept(ctx.channel());
    if (current != null) {
      current.onUpstreamClosed(streamEnded);
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
    if (evt instanceof Http2GoAwayFrame goAway) {
      // Sent to the streams above the GOAWAY's last stream id: the backend never processed them.
      streamEnded = new UnprocessedRequestException("backend " + backend.id() + " sent GOAWAY ("
          + Http2Error.valueOf(goAway.errorCode()) + ") without processing the request");
    } else if (evt instanceof Http2ResetFrame reset) {
      Http2Error error = Http2Error.valueOf(reset.errorCode());
      streamEnded = error == Http2Error.REFUSED_STREAM
          ? new UnprocessedRequestException("backend " + backend.id() + " refused the stream")
          : new StreamResetException("backend " + backend.id() + " reset the stream ("
              + (error == null ? "error " + reset.errorCode() : error) + ")");
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    UpstreamListener current = listener;
    listener = null;
    try {
      if (current != null) {
        // A backend that said it did not process the stream (GOAWAY) and then closed: its word
        // counts, not the failed write that followed.
        current.onUpstreamClosed(streamEnded != null ? streamEnded : cause);
      }
    } finally {
      ctx.close(); // even when answering the client failed (direct memory full, say)
    }
  }
}
