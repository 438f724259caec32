package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.SelectionContext;
import dev.meridian.proxy.routing.HedgeDelay;
import dev.meridian.proxy.routing.HedgePolicy;
import dev.meridian.proxy.upstream.BackendHandler;
import dev.meridian.proxy.upstream.BackendSlots;
import dev.meridian.proxy.upstream.UpstreamPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hedged requests ({@code routes[].hedge}), beside phases 2 to 4: when a backend has sent no response
 * headers within the route's delay, an idempotent request whose body was kept whole is sent once more
 * to another backend (the next region, or the same one), and the first final response head wins; the
 * other attempt is cancelled (its HTTP/1.1 connection closed, its HTTP/2 stream reset). Each hedge is
 * paid for from the route's retry budget, so hedging cannot double a slow backend's load.
 *
 * <p>A hedge is not sent for a request pinned to its backend (sticky), an upgrade, or one whose body
 * outgrew {@code retries.max-replay-body}. When the first attempt fails or answers a status the route
 * retries while a hedge is out, the hedge takes its place rather than a new retry.
 */
final class Hedging {
  private static final Logger log = LoggerFactory.getLogger(Hedging.class);

  final FrontendHandler connection;
  private final ProxyContext context;

  Hedging(FrontendHandler connection) {
    this.connection = connection;
    this.context = connection.context;
  }

  /** The hedges of one exchange: the timer for the next one, and those sent. */
  static final class Race {
    ScheduledFuture<?> timer;
    final List<HedgedAttempt> attempts = new ArrayList<>(1);
  }

  /**
   * Arms the timer of the exchange's next hedge: the request just went upstream whole, on a route
   * that hedges. Nothing happens on other routes, or when the delay is not known yet.
   */
  void arm(Exchange ex) {
    HedgeDelay hedge = ex.route.hedge();
    if (hedge == null || !mayHedge(ex) || ex.race != null
        && (ex.race.timer != null || ex.race.attempts.size() >= hedge.policy().max())) {
      return;
    }
    long delay = hedge.delayNanos();
    if (delay < 0) {
      return;
    }
    if (ex.race == null) {
      ex.race = new Race();
    }
    ex.race.timer = connection.client.eventLoop().schedule(() -> onTimer(ex), delay, TimeUnit.NANOSECONDS);
  }

  private static boolean mayHedge(Exchange ex) {
    return ex.isIdempotent() && ex.upgrade == null && ex.selection.pinned() == null && ex.requestComplete
        && !ex.replayAbandoned && ex.heldBack == null && (ex.replay != null || ex.replayEndsEmpty);
  }

  private void onTimer(Exchange ex) {
    ex.race.timer = null;
    if (connection.exchange != ex || connection.closing || ex.response != Exchange.ResponsePhase.AWAITED
        || ex.upstream == null || ex.backend == null || !mayHedge(ex)) {
      return;
    }
    HedgePolicy policy = ex.route.hedge().policy();
    Backend backend = pick(ex, policy.to());
    if (backend == null) {
      context.metrics.retries(ex.route.name()).hedged("no-backend");
      return;
    }
    BackendSlots.Slot slot = null;
    if (ex.group.slots() != null) {
      slot = ex.group.slots().of(backend.id());
      if (!slot.tryTake()) {
        context.metrics.retries(ex.route.name()).hedged("backend-full");
        return;
      }
    }
    if (!ex.route.retryBudget().tryRetry()) {
      if (slot != null) {
        slot.release();
      }
      log.debug("{} {}: route {}: retry budget spent; not hedging", ex.requestId, connection.clientIp,
          ex.route.name());
      context.metrics.retries(ex.route.name()).hedged("budget");
      return;
    }
    launch(ex, backend, slot);
    arm(ex);
  }

  /**
   * Another backend for a hedge: never the first attempt's nor an earlier hedge's, in another region
   * ({@code NEXT_REGION}, the selector walking on along the failover order) or the same one; or null.
   */
  private static Backend pick(Exchange ex, HedgePolicy.Target to) {
    SelectionContext selection = ex.selection;
    int excluded = selection.excludedCount();
    Predicate<Backend> avoided = selection.avoided();
    String decision = selection.decision();
    String region = ex.backend.region();
    selection.exclude(ex.backend);
    for (HedgedAttempt other : ex.race == null ? List.<HedgedAttempt>of() : ex.race.attempts) {
      selection.exclude(other.backend);
    }
    Predicate<Backend> wrongRegion = to == HedgePolicy.Target.NEXT_REGION
        ? b -> Objects.equals(b.region(), region)
        : b -> !Objects.equals(b.region(), region);
    selection.avoid(avoided == null ? wrongRegion : avoided.or(wrongRegion));
    try {
      return ex.group.selectorFor(selection.isWrite()).select(selection);
    } finally {
      selection.forgetExclusionsAfter(excluded);
      selection.avoid(avoided);
      selection.decision(decision);
    }
  }

  private void launch(Exchange ex, Backend backend, BackendSlots.Slot slot) {
    HedgedAttempt hedge = new HedgedAttempt(this, ex, backend, slot);
    ex.race.attempts.add(hedge);
    context.metrics.retries(ex.route.name()).hedged("sent");
    ex.group.traffic().of(backend.region()).picked();
    log.debug("{} {}: no response headers from {} after {}; hedging to {}", ex.requestId, connection.clientIp,
        ex.backend, ex.route.hedge().policy(), backend);
    if (ex.selection.wantsExplanation()) {
      String decision = ex.selection.decision();
      ex.selection.decision((decision == null ? "" : decision + "; ") + "hedged to " + backend.id()
          + " after " + (System.nanoTime() - ex.sentNanos) / 1_000_000 + "ms");
    }
    UpstreamPool pool = context.pools.forLoop(connection.client.eventLoop());
    Channel pooled = pool.takeIdle(backend, ex.group.link(), hedge, connection.upstreamClient());
    if (pooled != null) {
      send(hedge, pooled);
      return;
    }
    Future<Channel> acquired = pool.acquire(backend, ex.group.link(), hedge, connection.upstreamClient(), false);
    if (acquired.isDone()) {
      onAcquired(hedge, acquired);
    } else {
      acquired.addListener(f -> onAcquired(hedge, (Future<Channel>) f));
    }
  }

  private void onAcquired(HedgedAttempt hedge, Future<Channel> future) {
    if (hedge.state != HedgedAttempt.State.ACQUIRING) { // cancelled while it connected
      if (future.isSuccess()) {
        BackendHandler.of(future.getNow()).detach();
        future.getNow().close();
      }
      return;
    }
    if (!future.isSuccess()) {
      Throwable cause = future.cause();
      boolean refused = cause instanceof ConnectException && !(cause instanceof ConnectTimeoutException);
      boolean local = dev.meridian.proxy.upstream.LocalFailures.isLocal(cause);
      context.metrics.upstreamFailed(hedge.exchange.group.group().name(), hedge.backend.id(),
          local ? "local" : refused ? "connect-refused" : "connect");
      if (!local) {
        hedge.exchange.group.outliers().onConnectFailure(hedge.backend, refused);
      }
      end(hedge, "failed");
      return;
    }
    send(hedge, future.getNow());
  }

  /** Sends the exchange's request (head, kept body, end) on the hedge's upstream. */
  private void send(HedgedAttempt hedge, Channel upstream) {
    Exchange ex = hedge.exchange;
    hedge.upstream = upstream;
    hedge.state = HedgedAttempt.State.SENT;
    hedge.sentNanos = System.nanoTime();
    hedge.inFlightTo = ex.group.stats().of(hedge.backend);
    if (hedge.inFlightTo != null) {
      hedge.inFlightTo.requestStarted();
    }
    if (ex.route.rewriteHost()) {
      ex.request.headers().set(HttpHeaderNames.HOST, hedge.backend.authority());
    }
    upstream.write(ex.request).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    if (ex.replay != null) {
      for (HttpContent part : ex.replay) {
        upstream.write(part.retainedDuplicate(), upstream.voidPromise());
      }
    }
    if (ex.replayEndsEmpty) {
      upstream.write(LastHttpContent.EMPTY_LAST_CONTENT, upstream.voidPromise());
    }
    upstream.flush();
    ReadDemand.resume(upstream);
  }

  /** A hedge's final response head arrived first: it becomes the exchange's upstream, the first attempt is cancelled. */
  void onHedgeAnswered(HedgedAttempt hedge) {
    Exchange ex = hedge.exchange;
    if (ex.inFlightTo != null) {
      // The first attempt took at least this long: the latency statistics should know.
      ex.inFlightTo.observe(System.nanoTime() - ex.sentNanos);
    }
    promote(hedge);
  }

  /**
   * The first attempt failed, or answered a status the route retries, while a hedge was out: the
   * hedge (one already sent) takes its place. Returns false when none was sent (retry as usual).
   */
  boolean takeOver(Exchange ex) {
    if (ex.race == null) {
      return false;
    }
    for (HedgedAttempt hedge : ex.race.attempts) {
      if (hedge.state == HedgedAttempt.State.SENT) {
        promote(hedge);
        return true;
      }
    }
    return false;
  }

  private void promote(HedgedAttempt hedge) {
    Exchange ex = hedge.exchange;
    Channel first = ex.upstream;
    ex.endInFlight();
    if (first != null) {
      BackendHandler.of(first).detach();
      first.close(); // an HTTP/2 stream is reset
    }
    if (ex.backend != null) {
      ex.selection.exclude(ex.backend); // a retry of the hedge goes elsewhere
    }
    hedge.state = HedgedAttempt.State.WON;
    ex.upstream = hedge.upstream;
    ex.backend = hedge.backend;
    ex.inFlightTo = hedge.inFlightTo;
    ex.slot = hedge.slot;
    hedge.inFlightTo = null;
    hedge.slot = null;
    ex.sentNanos = hedge.sentNanos;
    ex.injectedDelayNanos = 0;
    ex.headWritten = true;
    ex.attempts++;
    ex.regionCounters = ex.group.traffic().of(hedge.backend.region());
    context.metrics.retries(ex.route.name()).hedged("won");
    if (ex.selection.wantsExplanation()) {
      ex.selection.decision(ex.selection.decision() + "; the hedge answered first");
    }
    cancel(ex);
  }

  /** A sent hedge's connection closed before it answered: the first attempt races on alone. */
  void onHedgeFailed(HedgedAttempt hedge, Throwable cause) {
    boolean local = dev.meridian.proxy.upstream.LocalFailures.isLocal(cause);
    context.metrics.upstreamFailed(hedge.exchange.group.group().name(), hedge.backend.id(), local ? "local" : "reset");
    if (!local) {
      hedge.exchange.group.outliers().onGatewayFailure(hedge.backend, "reset");
    }
    log.debug("{} {}: hedge to {} failed before answering: {}", hedge.exchange.requestId, connection.clientIp,
        hedge.backend, cause == null ? "connection closed" : cause.toString());
    end(hedge, "failed");
  }

  private void end(HedgedAttempt hedge, String outcome) {
    hedge.state = HedgedAttempt.State.ENDED;
    hedge.endInFlight();
    hedge.upstream = null;
    context.metrics.retries(hedge.exchange.route.name()).hedged(outcome);
  }

  /** Whether a hedge of the exchange is still on its way to a backend or waiting for its answer. */
  boolean hedgeRacing(Exchange ex) {
    Race race = ex.race;
    if (race != null) {
      for (HedgedAttempt hedge : race.attempts) {
        if (hedge.isRacing()) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Ends the exchange's race: no further hedge, and every hedge still racing is cancelled (its
   * connection closed, or its stream reset). The winner, if one won, is the exchange's upstream and stays.
   */
  void cancel(Exchange ex) {
    Race race = ex.race;
    if (race == null) {
      return;
    }
    if (race.timer != null) {
      race.timer.cancel(false);
      race.timer = null;
    }
    for (HedgedAttempt hedge : race.attempts) {
      if (hedge.isRacing()) {
        Channel upstream = hedge.upstream;
        hedge.state = HedgedAttempt.State.ENDED;
        hedge.endInFlight();
        hedge.upstream = null;
        if (upstream != null) {
          BackendHandler.of(upstream).detach();
          upstream.close();
        }
      }
    }
  }
}
