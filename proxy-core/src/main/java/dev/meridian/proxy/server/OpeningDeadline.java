package dev.meridian.proxy.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a client connection that does not get as far as speaking a protocol: one whose TLS
 * handshake (for a TLS listener) or first bytes (for a cleartext one) have not settled its protocol
 * within {@code limits.request-head-timeout} of its accept, one whose client closed its side first
 * (a TCP health check, a port scan), or one that went idle. Until then no request exists whose timers
 * would close it, so without this such a connection would hold its descriptor, and a place under
 * {@code max-connections}, for good.
 *
 * <p>Held by the handler that picks the protocol ({@link ProtocolDetector},
 * {@link AlpnPipelineConfigurator}) while that handler is in the pipeline; used on the connection's
 * event loop.
 */
final class OpeningDeadline {
  private static final Logger log = LoggerFactory.getLogger(OpeningDeadline.class);

  private final Duration timeout;
  private ScheduledFuture<?> timer;
  /** When {@link #start} armed it (System.nanoTime). */
  private long startedNanos;

  /** A deadline {@code timeout} after {@link #start}; zero or less sets none. */
  OpeningDeadline(Duration timeout) {
    this.timeout = timeout;
  }

  /** Arms the deadline (once) for the connection of {@code ctx}. */
  void start(ChannelHandlerContext ctx) {
    if (timer != null || timeout.isZero() || timeout.isNegative()) {
      return;
    }
    startedNanos = System.nanoTime();
    timer = ctx.executor().schedule(() -> expire(ctx), timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** What is left of it now (the whole of it when it was never armed; 0 or less once past). */
  long remainingNanos() {
    return startedNanos == 0 ? timeout.toNanos() : timeout.toNanos() - (System.nanoTime() - startedNanos);
  }

  /** Whether it sets no deadline at all (a timeout of zero). */
  boolean isNone() {
    return timeout.isZero() || timeout.isNegative();
  }

  /** Disarms it: the protocol is settled, or the connection closed. */
  void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  /**
   * Closes the connection if the event ends it before it spoke a protocol: its client shut its side
   * down, or it went idle. Returns whether it did (the event is then consumed).
   */
  boolean closesOn(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent || evt instanceof IdleStateEvent) {
      log.debug("{}: {} before any request; closed", ctx.channel().remoteAddress(),
          evt instanceof IdleStateEvent ? "idle" : "client closed");
      cancel();
      ctx.close();
      return true;
    }
    return false;
  }

  private void expire(ChannelHandlerContext ctx) {
    timer = null;
    if (ctx.channel().isOpen() && !ctx.isRemoved()) {
      log.debug("{}: no protocol settled within limits.request-head-timeout ({}); closed",
          ctx.channel().remoteAddress(), timeout);
      ctx.close();
    }
  }
}
