package dev.meridian.proxy.transport;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Fires {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} down the pipeline when nothing moved on the
 * connection for the timeout: no read, no write, and no progress of bytes waiting to be sent. It then
 * fires again after each further timeout while the connection stays idle.
 *
 * <p>It does what Netty's {@code IdleStateHandler(0, 0, timeout)} does at a fraction of the cost per
 * message, which matters on the forwarding path: a read or a write only sets a flag (no clock read,
 * no listener on the write's promise, so void promises stay void). One timer per connection looks at
 * the flag every quarter of the timeout, so the event fires between 1x and 1.25x the timeout after
 * the last activity.
 *
 * <p>Times come from the channel's event loop's {@linkplain io.netty.util.concurrent.Ticker ticker},
 * so a test drives it with a mock ticker.
 */
public final class IdleTimeoutHandler extends ChannelDuplexHandler {
  private final long timeoutNanos;
  private final long checkEveryNanos;
  private final Runnable check = this::check;
  private ChannelHandlerContext ctx;
  private Future<?> timer;
  /** Something was read or written since the last check. */
  private boolean active;
  private long lastActiveNanos;
  private final OutputProgress output = new OutputProgress();

  /**
   * Creates a handler that declares the connection idle after {@code timeout} without activity; a
   * timeout of zero or less never does (as with {@code IdleStateHandler}).
   */
  public IdleTimeoutHandler(long timeout, TimeUnit unit) {
    this.timeoutNanos = unit.toNanos(timeout);
    this.checkEveryNanos = Math.max(1, timeoutNanos / 4);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
      start(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    start(ctx);
    ctx.fireChannelActive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stop();
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    active = true;
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    active = true;
    ctx.write(msg, promise);
  }

  private void start(ChannelHandlerContext ctx) {
    if (this.ctx != null || timeoutNanos <= 0) {
      return;
    }
    this.ctx = ctx;
    lastActiveNanos = ctx.executor().ticker().nanoTime();
    timer = ctx.executor().schedule(check, checkEveryNanos, TimeUnit.NANOSECONDS);
  }

  private void stop() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void check() {
    if (timer == null || !ctx.channel().isOpen()) {
      return;
    }
    long now = ctx.executor().ticker().nanoTime();
    if (active || output.progressed(ctx.channel())) {
      active = false;
      lastActiveNanos = now;
    } else if (now - lastActiveNanos >= timeoutNanos) {
      lastActiveNanos = now;
      ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
    }
    if (timer != null && ctx.channel().isOpen()) {
      timer = ctx.executor().schedule(check, checkEveryNanos, TimeUnit.NANOSECONDS);
    }
  }
}
