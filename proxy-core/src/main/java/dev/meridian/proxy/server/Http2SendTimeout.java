package dev.meridian.proxy.server;

import dev.meridian.proxy.metrics.EdgeMeters;
import dev.meridian.proxy.transport.OutputProgress;
import dev.meridian.proxy.transport.SocketClose;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The send timeout of an HTTP/2 client connection: response bytes that wait for the client's
 * flow-control window (or for its socket) with no progress for {@code timeouts.client-idle} mean
 * the client stopped reading, and the connection closes (GOAWAY ENHANCE_YOUR_CALM), counted in
 * {@code meridian_client_send_timeouts_total}. Progress is WINDOW_UPDATEs from the client granting
 * at least {@value #MIN_GRANTED_PER_CHECK} bytes between two checks, or bytes leaving the
 * connection's send buffer; PINGs and other frames are not, nor are windows opened a byte at a
 * time, so a client cannot hold finished responses in Meridian's memory by keeping a (nearly) shut
 * window open with them. (The idle
 * timeout does not see this: the connection has open streams, and may even be busy reading.)
 *
 * <p>One timer per connection, running only while it has open streams: it looks every quarter of the
 * timeout, so a stalled connection closes between 1 and 1.25 timeouts after its last progress (and
 * at most a second more for its GOAWAY), not after the graceful close's wait for open streams. Used on
 * the connection's event loop.
 */
final class Http2SendTimeout {
  private static final Logger log = LoggerFactory.getLogger(Http2SendTimeout.class);
  /** Checks per timeout. */
  private static final int CHECKS = 4;
  /**
   * Window a client must grant between two checks for it to count as reading: a quarter of the
   * timeout (15 s by default) for 1 KiB is a rate no reading client falls under (68 bytes/s).
   */
  static final int MIN_GRANTED_PER_CHECK = 1024;
  /** How long the closing GOAWAY may wait for the socket before the connection closes anyway. */
  private static final long GOAWAY_GRACE_MILLIS = 1000;

  private final ChannelHandlerContext ctx;
  private final Http2Connection connection;
  private final HeldResponseBytes held;
  private final long timeoutNanos;
  private final EdgeMeters meters;
  private final Runnable onCheck = this::check;
  private ScheduledFuture<?> timer;
  /** Window granted by WINDOW_UPDATEs since the last check, in bytes (capped: it only compares to a minimum). */
  private int grantedSinceCheck;
  /** Checks in a row that found response bytes waiting and no progress. */
  private int stalledChecks;
  private final OutputProgress output = new OutputProgress();

  Http2SendTimeout(ChannelHandlerContext ctx, Http2Connection connection, HeldResponseBytes held, long timeoutNanos,
      EdgeMeters meters) {
    this.ctx = ctx;
    this.connection = connection;
    this.held = held;
    this.timeoutNanos = timeoutNanos;
    this.meters = meters;
  }

  /** A stream opened: the checks run (once started they go on while streams are open). */
  void streamOpened() {
    if (timer == null && timeoutNanos > 0) {
      stalledChecks = 0;
      schedule();
    }
  }

  /** The client opened a window by {@code increment} bytes: it reads, if it grants enough. */
  void windowOpened(int increment) {
    grantedSinceCheck = (int) Math.min(Integer.MAX_VALUE, (long) grantedSinceCheck + increment);
  }

  /** Stops the checks (the connection closed). */
  void stop() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void schedule() {
    timer = ctx.executor().schedule(onCheck, Math.max(1, timeoutNanos / CHECKS), TimeUnit.NANOSECONDS);
  }

  private void check() {
    timer = null;
    if (!ctx.channel().isActive() || connection.numActiveStreams() == 0) {
      stalledChecks = 0;
      return; // re-armed by the next stream
    }
    boolean progressed = grantedSinceCheck >= MIN_GRANTED_PER_CHECK | output.progressed(ctx.channel());
    grantedSinceCheck = 0;
    if (held.bytes() == 0 || progressed) {
      stalledChecks = 0;
    } else if (++stalledChecks >= CHECKS) {
      log.info("{}: HTTP/2 client read nothing of its responses for {} ms (window closed); closing the connection",
          ctx.channel().remoteAddress(), TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
      meters.sendTimedOut();
      // Closed once the GOAWAY is sent, or after a second if the full socket does not take it,
      // from the pipeline's first handler: the frame codec's own close would wait
      // server.drain-timeout for the streams this client is not reading, holding their backends.
      Runnable closeNow = () -> SocketClose.now(ctx.channel());
      ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM)).addListener(sent -> closeNow.run());
      ctx.executor().schedule(closeNow, GOAWAY_GRACE_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
    schedule();
  }
}
