package dev.meridian.proxy.server;

import dev.meridian.proxy.cache.CachedResponse;
import dev.meridian.proxy.cache.EdgeCache;
import dev.meridian.proxy.cache.MissCoalescer;

/**
 * A miss waiting for the request that went to the origin for the same key: answered from the
 * entry it stores, or sent to the origin itself when nothing was stored, or when the route's
 * response-headers timeout passes first. Settles once, on the waiting connection's event loop.
 */
final class CoalescedMiss implements MissCoalescer.Waiter {
  private final FrontendHandler connection;
  private final EdgeCachePhase phase;
  private final Exchange ex;
  private final MissCoalescer.Fill fill;
  /** X-Cache when the fill's entry answers: HIT for a miss that waited on another's, else MISS or EXPIRED. */
  private final String servedAs;
  /** The wait's deadline, once the fill took this waiter; else null. */
  private io.netty.util.concurrent.ScheduledFuture<?> timer;
  private boolean settled;

  /**
   * Makes a waiter (call {@link #startTimer} once the fill took it).
   *
   * @param servedAs X-Cache when the fill's entry answers: HIT for a miss that waited on another
   *                 request's fill (counted as coalesced), MISS or EXPIRED for a range whose own fetch
   *                 it waited on (counted as that)
   */
  CoalescedMiss(FrontendHandler connection, EdgeCachePhase phase, Exchange ex, MissCoalescer.Fill fill,
      String servedAs) {
    this.connection = connection;
    this.phase = phase;
    this.ex = ex;
    this.fill = fill;
    this.servedAs = servedAs;
  }

  /**
   * Starts the wait's deadline, once the fill took this waiter (a fill that had just finished takes
   * none, and no timer is left behind). Called on the waiting connection's event loop, which also
   * settles the wait: the fill's answer cannot come before this returns. The wait is the route's
   * response-headers, or what is left of its response-deadline if that is sooner.
   */
  void startTimer() {
    long now = System.nanoTime();
    long wait = ex.route.responseHeaders().toNanos();
    if (RequestDeadline.begin(ex, now)) {
      wait = Math.max(0, RequestDeadline.cap(ex, now + wait) - now);
    }
    timer = connection.client.eventLoop().schedule(() -> {
      if (fill.leave(this)) {
        settle(null);
      }
    }, wait, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  @Override
  public void filled(CachedResponse entry) {
    connection.client.eventLoop().execute(() -> settle(entry));
  }

  @Override
  public void failed() {
    connection.client.eventLoop().execute(() -> settle(null));
  }

  private void settle(CachedResponse entry) {
    if (settled) {
      return;
    }
    settled = true;
    if (timer != null) {
      timer.cancel(false);
    }
    if (connection.exchange != ex || connection.closing) {
      return;
    }
    if (entry != null && entry.matches(EdgeCache.varyValues(entry.varyNames(), ex.request.headers()))) {
      if (!servedAs.equals("HIT")) {
        EdgeCachePhase.countMiss(ex, connection.context.metrics.cache(ex.route.name()));
      }
      phase.serve(ex, entry, servedAs, connection.context.cache.nanoTime());
      return;
    }
    // Nothing stored for this request (or another variant): it asks the origin itself.
    EdgeCachePhase.countMiss(ex, connection.context.metrics.cache(ex.route.name()));
    ex.cache.fillWanted = false;
    connection.forward(ex);
  }
}
