package dev.meridian.proxy.server;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2LifecycleManager;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Ends a client's HTTP/2 connection ({@code ENHANCE_YOUR_CALM}) once Meridian reset more than
 * {@code maxResets} of its streams within a window, counting only the resets a client can provoke:
 * frames the decoder refuses (a zero WINDOW_UPDATE, a malformed header block, DATA past the window)
 * reset a stream and free its slot while the work behind it may go on ("MadeYouReset",
 * CVE-2025-8671). Not counted: {@code NO_ERROR} and {@code CANCEL} (a finished answer, a client that
 * left) and {@code INTERNAL_ERROR}, which Meridian sends when a backend cut a response off. Netty's
 * own limit counted those too, so a backend failing 200 times in 30 seconds ended every client
 * connection that used it, the other streams on them lost.
 *
 * <p>One per connection, on its event loop.
 */
final class ProvokedResetLimit extends DecoratingHttp2ConnectionEncoder {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProvokedResetLimit.class);

  private final int maxResets;
  private final long windowNanos;
  private final LongSupplier nanoClock;
  private long windowStart;
  private int inWindow;
  private Http2LifecycleManager lifecycle;

  ProvokedResetLimit(Http2ConnectionEncoder delegate, int maxResets, int windowSeconds, LongSupplier nanoClock) {
    super(delegate);
    this.maxResets = maxResets;
    this.windowNanos = TimeUnit.SECONDS.toNanos(windowSeconds);
    this.nanoClock = nanoClock;
    this.windowStart = nanoClock.getAsLong();
  }

  @Override
  public void lifecycleManager(Http2LifecycleManager lifecycleManager) {
    this.lifecycle = lifecycleManager;
    super.lifecycleManager(lifecycleManager);
  }

  @Override
  public ChannelFuture writeRstStream(ChannelHandlerContext ctx, int streamId, long errorCode, ChannelPromise promise) {
    ChannelFuture written = super.writeRstStream(ctx, streamId, errorCode, promise);
    if (isProvoked(errorCode) && overLimit()) {
      log.info("{}: more than {} streams reset for the client's own frames within {} s; connection closed",
          ctx.channel().remoteAddress(), maxResets, TimeUnit.NANOSECONDS.toSeconds(windowNanos));
      lifecycle.onError(ctx, true, Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM,
          "more than %d streams reset for the client's own frames within %d seconds", maxResets,
          TimeUnit.NANOSECONDS.toSeconds(windowNanos)));
      ctx.close();
    }
    return written;
  }

  /** Whether a reset of this code is one a client's frames can cause. */
  static boolean isProvoked(long errorCode) {
    return errorCode != Http2Error.NO_ERROR.code() && errorCode != Http2Error.CANCEL.code()
        && errorCode != Http2Error.INTERNAL_ERROR.code();
  }

  /** Counts one reset; whether the window now holds more than the limit. */
  private boolean overLimit() {
    long now = nanoClock.getAsLong();
    if (now - windowStart >= windowNanos) {
      windowStart = now;
      inWindow = 0;
    }
    return ++inWindow > maxResets;
  }
}
