package dev.meridian.proxy.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes an HTTP/2 client connection (GOAWAY, through the codec's close) that has had no open stream
 * for {@code timeouts.client-idle}, whatever else its client sends: PING, SETTINGS and WINDOW_UPDATE
 * frames keep a socket busy without asking for anything, and the connection's byte-level idle
 * timeout, which any byte resets, would let a client hold it (and a connection slot) for ever with a
 * PING every few seconds.
 *
 * <p>One timer per connection, armed at its start and when its last open stream closes, and re-armed
 * only when it fires early (no task per stream). On the connection's event loop.
 */
final class Http2IdleConnection extends Http2ConnectionAdapter {
  private static final Logger log = LoggerFactory.getLogger(Http2IdleConnection.class);

  private final ChannelHandlerContext ctx;
  private final Http2Connection connection;
  private final long timeoutNanos;
  private final Runnable check = this::check;
  /** When the last open stream closed (or the connection started). */
  private long idleSinceNanos;
  private ScheduledFuture<?> timer;

  /** Watches the connection's streams; a timeout of zero or less closes nothing. */
  Http2IdleConnection(ChannelHandlerContext ctx, Http2Connection connection, long timeoutNanos) {
    this.ctx = ctx;
    this.connection = connection;
    this.timeoutNanos = timeoutNanos;
  }

  /** Starts the clock: a connection that opens no stream is closed after the timeout too. */
  void start() {
    if (timeoutNanos > 0) {
      connection.addListener(this);
      idleSinceNanos = ctx.executor().ticker().nanoTime();
      arm(timeoutNanos);
    }
  }

  @Override
  public void onStreamClosed(Http2Stream stream) {
    if (connection.numActiveStreams() == 0) {
      idleSinceNanos = ctx.executor().ticker().nanoTime();
      if (timer == null) {
        arm(timeoutNanos);
      }
    }
  }

  /** Stops the clock (the connection closed). */
  void stop() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void arm(long delayNanos) {
    timer = ctx.executor().schedule(check, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void check() {
    timer = null;
    if (!ctx.channel().isActive() || connection.numActiveStreams() > 0) {
      return; // a stream is open: armed again when the last one closes
    }
    long idle = ctx.executor().ticker().nanoTime() - idleSinceNanos;
    if (idle < timeoutNanos) {
      arm(timeoutNanos - idle);
      return;
    }
    log.debug("{}: HTTP/2 connection without a stream for {} ms; closed", ctx.channel().remoteAddress(),
        TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
    ctx.close();
  }
}
