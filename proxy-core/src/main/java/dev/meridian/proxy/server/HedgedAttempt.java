package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendStats;
import dev.meridian.proxy.upstream.BackendSlots;
import dev.meridian.proxy.upstream.UpstreamListener;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.ReferenceCountUtil;

/**
 * One hedge of an exchange: its request sent once more, to another backend, racing the first
 * attempt. While it races, its upstream's events come here and only a final response head counts
 * (it wins the race); once it has won they pass to the connection, as the exchange's own upstream's do.
 */
final class HedgedAttempt implements UpstreamListener {

  /** Where the hedge stands. */
  enum State {
    /** Waiting for a connection (or an HTTP/2 stream) to its backend. */
    ACQUIRING,
    /** The request went out; no final response head yet. */
    SENT,
    /** It answered first: its upstream is the exchange's now. */
    WON,
    /** Cancelled (the other attempt answered, the exchange ended) or failed. */
    ENDED
  }

  final Hedging hedging;
  final Exchange exchange;
  final Backend backend;
  State state = State.ACQUIRING;
  Channel upstream;
  /** When the request went out (System.nanoTime). */
  long sentNanos;
  /** Stats of its backend while the hedge is in flight there, or null. */
  BackendStats inFlightTo;
  /** The backend slot it holds (groups with limits.max-connections), or null. */
  BackendSlots.Slot slot;

  HedgedAttempt(Hedging hedging, Exchange exchange, Backend backend, BackendSlots.Slot slot) {
    this.hedging = hedging;
    this.exchange = exchange;
    this.backend = backend;
    this.slot = slot;
  }

  /** Whether the hedge is still racing (acquiring, or sent and unanswered). */
  boolean isRacing() {
    return state == State.ACQUIRING || state == State.SENT;
  }

  /** Gives back what the hedge holds on its backend (in-flight count, slot); once. */
  void endInFlight() {
    if (inFlightTo != null) {
      inFlightTo.requestFinished();
      inFlightTo = null;
    }
    if (slot != null) {
      slot.release();
      slot = null;
    }
  }

  @Override
  public void onUpstreamMessage(Object msg) {
    if (state == State.WON) {
      hedging.connection.onUpstreamMessage(msg);
    } else if (state == State.SENT && msg instanceof HttpResponse response
        && response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
      hedging.onHedgeAnswered(this);
      hedging.connection.onUpstreamMessage(msg);
    } else {
      // An interim response (and its empty end) while racing, or anything after the hedge ended.
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void onUpstreamReadComplete() {
    if (state == State.WON) {
      hedging.connection.onUpstreamReadComplete();
    }
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    if (state == State.WON) {
      hedging.connection.onUpstreamWritabilityChanged(writable);
    }
  }

  @Override
  public void onUpstreamIdle() {
    if (state == State.WON) {
      hedging.connection.onUpstreamIdle();
    }
  }

  @Override
  public void onUpstreamClosed(Throwable cause) {
    if (state == State.WON) {
      hedging.connection.onUpstreamClosed(cause);
    } else if (state == State.SENT) {
      hedging.onHedgeFailed(this, cause);
    }
  }
}
