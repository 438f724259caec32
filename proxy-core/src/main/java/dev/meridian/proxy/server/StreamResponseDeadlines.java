package dev.meridian.proxy.server;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The response-headers deadlines of one HTTP/2 connection's streams, kept by one timer for the
 * whole connection (Netty's scheduled tasks are a priority queue per event loop: a task per stream
 * cost an insertion, a removal and an object per request).
 *
 * <p>A stream whose request has gone upstream only notes its deadline here: the timer is armed when
 * none is, and re-armed only when this deadline comes before the armed one (a route with a shorter
 * timeout). When the timer fires, each open stream past its deadline is answered 504
 * ({@link ResponseHeadersTimer#checkDeadline}), and the timer is armed again for the soonest deadline still
 * waiting, if any. A stream that is answered or closed leaves nothing to cancel: its deadline is
 * simply not found waiting when the timer fires. Used on the connection's event loop only.
 */
final class StreamResponseDeadlines {
  private final Http2Streams streams;
  private final EventLoop loop;
  private final Runnable onTimer = this::onTimer;
  private ScheduledFuture<?> timer;
  /** When {@link #timer} fires (System.nanoTime). */
  private long timerDueNanos;

  /** Creates the deadlines of the streams of one connection, served by its event loop. */
  StreamResponseDeadlines(Http2Streams streams, EventLoop loop) {
    this.streams = streams;
    this.loop = loop;
  }

  /**
   * Makes sure the timer fires no later than {@code deadlineNanos} (System.nanoTime), when the
   * stream that asks checks its exchange.
   */
  void arm(long deadlineNanos, long nowNanos) {
    if (timer != null && timerDueNanos - deadlineNanos <= 0) {
      return;
    }
    if (timer != null) {
      timer.cancel(false);
    }
    schedule(deadlineNanos, nowNanos);
  }

  /** Stops the timer: the connection closed. */
  void stop() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void schedule(long deadlineNanos, long nowNanos) {
    timer = loop.schedule(onTimer, Math.max(0, deadlineNanos - nowNanos), TimeUnit.NANOSECONDS);
    timerDueNanos = deadlineNanos;
  }

  private void onTimer() {
    timer = null;
    long now = System.nanoTime();
    boolean waiting = false;
    long soonest = 0;
    for (Http2ClientStream stream : streams.openStreams()) {
      long deadline = stream.handler.responseTimer.checkDeadline(now);
      if (deadline != 0 && (!waiting || deadline - soonest < 0)) {
        soonest = deadline;
        waiting = true;
      }
    }
    if (waiting) {
      arm(soonest, now); // a stream may have armed it meanwhile (a retry): the sooner one counts
    }
  }
}
