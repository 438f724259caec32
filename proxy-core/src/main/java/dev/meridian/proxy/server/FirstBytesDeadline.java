package dev.meridian.proxy.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a TLS connection whose client, its handshake done, does not begin to speak the protocol it
 * chose within what is left of {@code limits.request-head-timeout} from its accept: no byte of an
 * HTTP/1.1 request, or not the whole HTTP/2 connection preface. Until then no request exists whose
 * timers would close it (a cleartext connection is held to the same deadline by
 * {@link ProtocolDetector}), so idle TLS connections would hold places under {@code max-connections}
 * until {@code timeouts.client-idle}: an address could keep a listener full for a handshake a second.
 *
 * <p>Sits after the TLS handler, passes everything on, and removes itself once the bytes it waits for
 * arrived; used on the connection's event loop.
 */
final class FirstBytesDeadline extends ChannelInboundHandlerAdapter {
  static final String NAME = "first-bytes";
  /** The bytes of the HTTP/2 connection preface (RFC 9113 section 3.4). */
  static final int HTTP2_PREFACE = 24;
  private static final Logger log = LoggerFactory.getLogger(FirstBytesDeadline.class);

  private final long remainingNanos;
  private int awaited;
  private ScheduledFuture<?> timer;

  /**
   * @param remainingNanos what is left of the opening deadline (at least a millisecond is given)
   * @param bytes          how many bytes the client must send to have begun: 1, or {@link #HTTP2_PREFACE}
   */
  FirstBytesDeadline(long remainingNanos, int bytes) {
    this.remainingNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1), remainingNanos);
    this.awaited = bytes;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    timer = ctx.executor().schedule(() -> {
      if (ctx.channel().isOpen() && !ctx.isRemoved()) {
        log.debug("{}: no request began within limits.request-head-timeout of the connection's accept; closed",
            ctx.channel().remoteAddress());
        ctx.close();
      }
    }, remainingNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf bytes) {
      awaited -= bytes.readableBytes();
      if (awaited <= 0) {
        ctx.pipeline().remove(this);
      }
    }
    ctx.fireChannelRead(msg);
  }
}
