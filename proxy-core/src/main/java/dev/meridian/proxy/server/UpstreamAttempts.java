package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.health.OutlierDetector;
import dev.meridian.proxy.http.ViaHeader;
import dev.meridian.proxy.http1.RawRequest;
import dev.meridian.proxy.http1.WholeRequest;
import dev.meridian.proxy.regions.RegionFault;
import dev.meridian.proxy.upstream.BackendHandler;
import dev.meridian.proxy.upstream.ClientConnection;
import dev.meridian.proxy.upstream.LocalFailures;
import dev.meridian.proxy.upstream.StreamUnavailableException;
import dev.meridian.proxy.upstream.UnprocessedRequestException;
import dev.meridian.proxy.upstream.UpstreamConnectionBudget;
import dev.meridian.proxy.upstream.UpstreamPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.Future;
import java.net.ConnectException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phase 2 of a request: choosing a backend, taking a connection to it from this event loop's pool and
 * sending the request head; and, when an attempt fails before the backend answered, deciding whether
 * to try the next backend (retry conditions, attempts, the route's retry budget, replayable bodies) or
 * to answer 502/503. Failover drills' injected faults act here, as the backend's own behaviour would.
 */
final class UpstreamAttempts {
  /** RFC 9440's field for the client certificate the TLS handshake verified. */
  private static final io.netty.util.AsciiString CLIENT_CERT = io.netty.util.AsciiString.cached("client-cert");

  /** How often one request is sent again after backends said they did not process it. */
  private static final int MAX_UNPROCESSED_RESENDS = 3;
  private static final Logger log = LoggerFactory.getLogger(UpstreamAttempts.class);

  private final FrontendHandler connection;
  private final ProxyContext context;
  /** Where requests wait for a full backend (groups with limits.max-connections). */
  private final BackendSlotWait slotWait;
  /**
   * Marks the current exchange's head as written to its upstream, or closes an upstream whose write
   * failed. One listener per connection: a head's write completes before its response can arrive, so
   * before another exchange can take the same upstream.
   */
  private final ChannelFutureListener onHeadWritten = f -> {
    Exchange current = currentExchange();
    if (!f.isSuccess()) {
      f.channel().close();
    } else if (current != null && current.upstream == f.channel()) {
      current.headWritten = true;
    }
  };

  UpstreamAttempts(FrontendHandler connection) {
    this.connection = connection;
    this.context = connection.context;
    this.slotWait = new BackendSlotWait(connection, this);
  }

  private Exchange currentExchange() {
    return connection.exchange;
  }

  /** Chooses the next backend for the exchange and sends the request there, or answers 502/503. */
  void connectUpstream(Exchange ex) {
    if (!connection.responseTimer.watchDeadline(ex)) {
      return; // the route's response-deadline passed: answered 504
    }
    ex.upstreamStatus = 0; // the access log's upstream_status is the last attempt's
    if (ex.slot != null) { // a new pick: the last attempt's slot goes back (paths that retry without endInFlight)
      ex.slot.release();
      ex.slot = null;
    }
    Backend backend = ex.group.selectorFor(ex.selection.isWrite()).select(ex.selection);
    if (backend == null && ex.residencyClass != null && ex.attempts == 0) {
      log.warn("{} {}: route {}: no healthy backend for residency class '{}'", ex.requestId,
          connection.clientIp, ex.route.name(), ex.residencyClass);
      connection.completion.respondLocally(ex, HttpResponseStatus.SERVICE_UNAVAILABLE,
          "no healthy backend in the regions allowed for residency class '" + ex.residencyClass + "' "
              + ex.route.residency().regionsOf(ex.residencyClass) + "; the request was not sent elsewhere");
      return;
    }
    if (backend == null && ex.selection.pinOutcome() == dev.meridian.balancer.StickyPin.Outcome.REFUSED) {
      String why = StickySessions.refusal(ex, context);
      log.warn("{} {}: route {}: {}", ex.requestId, connection.clientIp, ex.route.name(), why);
      connection.completion.respondLocally(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, why);
      return;
    }
    if (backend == null) {
      boolean none = ex.attempts == 0;
      String line = context.failureLog.admittedLine(ex.route, none ? "none" : "none-left");
      if (line != null) {
        log.warn("{} {}: route {}: {}{}", ex.requestId, connection.clientIp, ex.route.name(),
            none ? "no available backend" : "no backend left to try", line);
      }
      connection.completion.respondLocally(ex,
          none || ex.lastAttemptBusy ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.BAD_GATEWAY,
          none
              ? "no available backend in group '" + ex.route.group().name() + "'; try again later"
              : "could not reach a backend of group '" + ex.route.group().name() + "' (last: "
                  + ex.lastFailure + ")");
      return;
    }
    if (ex.group.slots() != null) {
      backend = slotWait.takeSlot(ex, backend);
      if (backend == null) {
        return; // waiting for a slot, or answered 503
      }
    }
    sendTo(ex, backend);
  }

  /** Sends the exchange to the chosen backend (its slot taken, if its group limits them). */
  void sendTo(Exchange ex, Backend backend) {
    if (ex.attempts > 0 && ex.selection.wantsExplanation() && ex.selection.decision() != null) {
      ex.selection.decision("retry " + ex.attempts + " (" + ex.lastFailure + "); " + ex.selection.decision());
    } else if (ex.resentBecause != null && ex.selection.wantsExplanation() && ex.selection.decision() != null) {
      ex.selection.decision("resent (" + ex.resentBecause + "); " + ex.selection.decision());
    }
    ex.resentBecause = null;
    ex.attempts++;
    ex.backend = backend;
    ex.injectedDelayNanos = 0;
    ex.lastAttemptBusy = false;
    ex.regionCounters = ex.group.traffic().of(backend.region());
    ex.regionCounters.picked();
    RegionFault fault = ex.group.faults().of(backend.region());
    if (fault != null && injectFault(ex, backend, fault)) {
      return;
    }
    acquireUpstream(ex, backend);
  }

  private void acquireUpstream(Exchange ex, Backend backend) {
    UpstreamPool pool = context.pools.forLoop(connection.client.eventLoop());
    boolean fresh = ex.freshConnection;
    ex.freshConnection = false;
    ClientConnection client = connection.upstreamClient();
    Channel pooled = fresh ? null : pool.takeIdle(backend, ex.group.link(), connection, client);
    if (pooled != null) {
      sendHead(ex, backend, pooled);
      return;
    }
    // The idle pool was tried: a new connection, or a stream on an HTTP/2 one.
    Future<Channel> acquired = pool.acquire(backend, ex.group.link(), connection, client, true);
    if (acquired.isDone()) {
      onUpstreamAcquired(ex, backend, acquired); // done at once: no listener to allocate
    } else {
      acquired.addListener(f -> onUpstreamAcquired(ex, backend, (Future<Channel>) f));
    }
  }

  /**
   * Applies a failover drill's fault to this attempt: an abort answers as if the region had (retried
   * like a real answer of that status), a delay holds the request before it is forwarded. Returns
   * whether the fault took the attempt over.
   */
  private boolean injectFault(Exchange ex, Backend backend, RegionFault fault) {
    if (fault.aborts()) {
      noteFault(ex, "abort " + fault.abortStatus());
      onInjectedAbort(ex, backend, fault.abortStatus());
      return true;
    }
    if (fault.delayNanos() <= 0) {
      return false;
    }
    noteFault(ex, "delay " + fault.delayNanos() / 1_000_000 + "ms");
    ex.injectedDelayNanos = fault.delayNanos();
    connection.client.eventLoop().schedule(() -> {
      if (connection.exchange == ex && !connection.closing && ex.backend == backend && ex.upstream == null
          && !connection.responseTimer.answerIfDeadlinePassed(ex)) {
        acquireUpstream(ex, backend);
      }
    }, fault.delayNanos(), TimeUnit.NANOSECONDS);
    return true;
  }

  private static void noteFault(Exchange ex, String what) {
    if (ex.selection.wantsExplanation()) {
      String decision = ex.selection.decision();
      ex.selection.decision((decision == null ? "" : decision + "; ") + "fault: " + what);
    }
  }

  /** An injected abort: passive health and retries see it as the backend's own answer. */
  private void onInjectedAbort(Exchange ex, Backend backend, int status) {
    ex.group.outliers().onResponse(backend, status);
    if (ex.route.retries().retriesStatus(status) && ex.isIdempotent() && mayRetry(ex, true, "status")) {
      ex.lastFailure = "backend " + backend.id() + " answered " + status + " (injected)";
      ex.selection.exclude(backend);
      connectUpstream(ex);
      return;
    }
    ex.injectedAbort = true;
    connection.completion.respondLocally(ex, HttpResponseStatus.valueOf(status),
        "fault injected by a failover drill: region " + backend.region() + " answered " + status);
  }

  private void onUpstreamAcquired(Exchange ex, Backend backend, Future<Channel> future) {
    if (connection.exchange != ex || connection.closing) {
      if (future.isSuccess()) {
        // Never used (the request ended while it connected: a client that went away, a stream it
        // reset): it waits in the pool for the next request rather than being closed.
        context.pools.forLoop(connection.client.eventLoop()).release(future.getNow());
      }
      return;
    }
    if (!future.isSuccess() && future.cause() instanceof StreamUnavailableException busy) {
      // The backend is busy, not failing: no outlier report; a retry spends the budget like any.
      context.metrics.upstreamFailed(ex.group.group().name(), backend.id(), "no-stream");
      log.warn("{} {}: {}", ex.requestId, connection.clientIp, busy.getMessage());
      ex.lastFailure = "backend " + backend.id() + " has no free HTTP/2 stream";
      ex.lastAttemptBusy = true;
      ex.endInFlight();
      ex.selection.exclude(backend);
      if (mayRetry(ex, ex.route.retries().retriesOn("connect-failure"), "no-stream")) {
        connectUpstream(ex);
      } else {
        connection.completion.respondLocally(ex, HttpResponseStatus.SERVICE_UNAVAILABLE,
            ex.lastFailure + "; try again later");
      }
      return;
    }
    if (!future.isSuccess() && future.cause() instanceof UpstreamConnectionBudget.Exhausted spent) {
      // This process holds all the backend connections its descriptors allow: a 503 now, the backend
      // not blamed, no retry (another backend needs a connection as much).
      context.metrics.upstreamFailed(ex.group.group().name(), backend.id(), "local");
      String line = context.failureLog.admittedLine(backend, "budget");
      if (line != null) {
        log.warn("{} {}: no connection to backend {}: {}{}", ex.requestId, connection.clientIp, backend,
            spent.getMessage(), line);
      }
      ex.endInFlight();
      connection.completion.respondLocally(ex, HttpResponseStatus.SERVICE_UNAVAILABLE,
          "too many backend connections open in this process");
      return;
    }
    if (!future.isSuccess()) {
      Throwable cause = future.cause();
      boolean refused = cause instanceof ConnectException && !(cause instanceof ConnectTimeoutException);
      boolean local = LocalFailures.isLocal(cause);
      context.metrics.upstreamFailed(ex.group.group().name(), backend.id(),
          local ? "local" : refused ? "connect-refused" : "connect");
      if (!local) {
        ex.group.outliers().onConnectFailure(backend, refused); // not for this process's own shortage
      }
      String line = context.failureLog.admittedLine(backend, "connect");
      if (line != null) {
        log.warn("{} {}: connect to backend {} failed: {}{}", ex.requestId, connection.clientIp, backend, cause, line);
      }
      ex.connectFailures++;
      retryAfterConnectFailure(ex, "could not connect to backend " + backend.id());
      return;
    }
    if (connection.responseTimer.answerIfDeadlinePassed(ex)) {
      // Connected as the deadline passed, before its timer ran: the connection waits for the next request.
      context.pools.forLoop(connection.client.eventLoop()).release(future.getNow());
      return;
    }
    sendHead(ex, backend, future.getNow());
  }

  /** Writes the (rewritten) request head to the upstream connection, then what body there is. */
  private void sendHead(Exchange ex, Backend backend, Channel upstream) {
    ex.upstream = upstream;
    ex.inFlightTo = ex.group.stats().of(backend);
    if (ex.inFlightTo != null) {
      ex.inFlightTo.requestStarted();
    }
    ex.sentNanos = System.nanoTime();
    if (ex.bodyProgressNanos == 0 && !ex.expectsContinue && !ex.bodiless) {
      ex.bodyProgressNanos = ex.sentNanos; // the body's rate is timed from here
    }
    if (!ex.headersRewritten) {
      ex.policies.requestRewriter.rewrite(ex.request, connection.clientIp, connection.scheme,
          backend.authority(), ex.route.rewriteHost(), ex.upgrade, connection.forwardedMemo,
          ex.http2 ? ViaHeader.HTTP_2 : ex.clientVersion);
      String clientCert = connection.clientCertField();
      if (clientCert != null) {
        // The certificate the handshake verified, for the backend to know the client by (RFC 9440);
        // one a client sent itself was dropped at admission.
        ex.request.headers().set(CLIENT_CERT, clientCert);
      }
      ex.headersRewritten = true;
    } else if (ex.route.rewriteHost()) {
      ex.request.headers().set(HttpHeaderNames.HOST, backend.authority());
    }
    // A failed write closes the upstream channel, which onUpstreamClosed handles.
    ex.headWritten = false;
    if (connection.inbound.takeEndOfBodilessRequest(ex, upstream)) {
      // A request without a body, sent for the first time: head and end go as one message.
      upstream.write(new WholeRequest((RawRequest) ex.request)).addListener(onHeadWritten);
      connection.requestBody.endedWithHead(ex);
    } else {
      upstream.write(ex.request).addListener(onHeadWritten);
      connection.requestBody.replay(ex);
      if (ex.expectsContinue && !ex.requestComplete) {
        // The client waits for the backend's 100 before it sends its body: the backend owes an
        // answer from now on (a backend that ignores Expect and waits for the body gets none).
        connection.responseTimer.startTimer(ex);
      }
    }
    connection.upstreamNeedsFlush = true;
    connection.inbound.drain();
    connection.flushUpstream();
    ReadDemand.resume(upstream);
    connection.inbound.maybeRead();
  }

  /**
   * The exchange's upstream connection closed. Before a complete response: sent again when the
   * backend said it never processed the request, or when a pooled connection turned out closed;
   * otherwise retried or answered 502 (a request whose bytes reached the backend goes elsewhere only
   * when idempotent), or, mid-response, the client's response is cut off.
   */
  void onUpstreamClosed(Exchange ex, Throwable cause) {
    Backend failed = ex.backend;
    if (ex.race != null && !ex.answerBegun() && connection.hedging().takeOver(ex)) {
      log.warn("{} {}: backend {} closed the connection before responding; its hedge races on", ex.requestId,
          connection.clientIp, failed);
      boolean local = LocalFailures.isLocal(cause);
      context.metrics.upstreamFailed(ex.group.group().name(), failed.id(), local ? "local" : "reset");
      if (!local) {
        ex.group.outliers().onGatewayFailure(failed, "reset");
      }
      return;
    }
    ex.cancelResponseTimer();
    Backend backend = ex.backend;
    boolean reused = BackendHandler.of(ex.upstream) != null && BackendHandler.of(ex.upstream).isReused();
    ex.upstream = null;
    if (ex.responseComplete()) {
      return;
    }
    ex.endInFlight();
    String clientIp = connection.clientIp;
    if (cause instanceof UnprocessedRequestException && !ex.answerBegun() && ex.isReplayable()
        && ex.unprocessedResends < MAX_UNPROCESSED_RESENDS) {
      // The backend said it never processed the request (HTTP/2 GOAWAY or REFUSED_STREAM): sending
      // it again is safe for any method, and spends no retry attempt.
      log.debug("{} {}: {}; sending the request again", ex.requestId, clientIp, cause.getMessage());
      ex.unprocessedResends++;
      ex.attempts--;
      connectUpstream(ex);
      return;
    }
    if (reused && !ex.answerBegun() && !ex.staleRetried && ex.isIdempotent() && ex.isReplayable()) {
      // A pooled connection the backend closed as we reused it (its keep-alive timeout raced ours, or
      // the backend went away with requests on its connections): sent again once, on a new connection
      // (nginx does the same without spending a try). Not reported to passive health, since a race is
      // no fault, but counted and logged, as nginx logs "upstream prematurely closed connection".
      context.metrics.upstreamFailed(ex.group.group().name(), backend.id(), "reused-closed");
      String line = context.failureLog.admittedLine(backend, "reused-closed");
      if (line != null) {
        log.warn("{} {}: backend {} closed a pooled connection before answering ({}); sending the request again"
            + " on a new connection{}", ex.requestId, clientIp, backend, cause == null ? "end of stream" : cause, line);
      }
      ex.lastFailure = "backend " + backend.id() + " closed a pooled connection before answering";
      ex.resentBecause = ex.lastFailure;
      ex.staleRetried = true;
      ex.freshConnection = true;
      ex.attempts--; // a reconnect, not a retry: it spends no attempt
      connectUpstream(ex);
      return;
    }
    String tlsFailure = dev.meridian.proxy.upstream.TlsFailures.describe(cause);
    String why = cause == null ? "closed the connection" : tlsFailure != null ? tlsFailure : "failed: " + cause;
    boolean local = LocalFailures.isLocal(cause);
    context.metrics.upstreamFailed(ex.group.group().name(), backend.id(),
        local ? "local" : tlsFailure != null ? "tls" : "reset");
    if (!local) {
      ex.group.outliers().onGatewayFailure(backend, "reset"); // not for this process's own shortage
    }
    if (ex.responseStarted()) {
      // At most a line a second for each backend and kind: a backend dying under load, or this
      // process out of direct memory, would otherwise write one per response (3,000 in 2 s).
      String cutLine = context.failureLog.admittedLine(backend, local ? "local-mid-response" : "mid-response");
      if (cutLine != null) {
        log.warn("{} {}: backend {} {} mid-response after {} bytes; cutting the client's response off{}",
            ex.requestId, clientIp, backend, why, ex.responseBytes, cutLine);
      }
      connection.response.cutOff(ex, "backend " + backend.id() + " " + why + " mid-response");
      return;
    }
    String line = context.failureLog.admittedLine(backend, "closed");
    if (line != null && tlsFailure != null) {
      log.warn("{} {}: backend {}: {}{}", ex.requestId, clientIp, backend, tlsFailure, line);
    } else if (line != null) {
      log.warn("{} {}: backend {} {} before responding{}", ex.requestId, clientIp, backend, why, line);
    }
    // Never written (the head's write failed, e.g. a pooled connection the backend had closed): any
    // method may go elsewhere. Written: only idempotent ones; a POST whose bytes reached a backend is
    // never sent twice.
    // What the backend did: an HTTP/2 backend refuses or resets a stream, it does not close its connection.
    String reason = tlsFailure != null ? "backend " + backend.id() + ": " + tlsFailure
        : cause instanceof UnprocessedRequestException || cause instanceof dev.meridian.proxy.upstream.StreamResetException
            ? cause.getMessage()
            : "backend " + backend.id() + " closed the connection before responding";
    if (!ex.headWritten || ex.isIdempotent()) {
      retryOrFail(ex, "reset-before-response", reason);
    } else {
      ex.endInFlight();
      connection.completion.failResponse(ex, HttpResponseStatus.BAD_GATEWAY, reason);
    }
  }

  /**
   * After a failure before the backend answered: the next backend when the route retries this
   * condition, attempts and the retry budget remain, and the request can be sent again; else 502.
   */
  private void retryOrFail(Exchange ex, String condition, String reason) {
    ex.lastFailure = reason;
    ex.endInFlight();
    if (ex.backend != null) {
      ex.selection.exclude(ex.backend);
    }
    ex.upstream = null;
    if (mayRetry(ex, ex.route.retries().retriesOn(condition), condition)) {
      avoidRefusingBackends(ex);
      connectUpstream(ex);
    } else {
      connection.completion.respondLocally(ex, HttpResponseStatus.BAD_GATEWAY, reason);
    }
  }

  /**
   * After a connect failure: nothing reached the backend, so trying the next one is cheap for the
   * backends. It spends neither an attempt nor the retry budget, up to
   * {@code max(upstream.connect-attempts, retries.attempts + 1)} failed connects per request, while the
   * route retries connect failures; then 502.
   */
  private void retryAfterConnectFailure(Exchange ex, String reason) {
    ex.lastFailure = reason;
    ex.endInFlight();
    ex.selection.exclude(ex.backend);
    ex.upstream = null;
    int connectTries = Math.max(ex.policies.settings.upstream().connectAttempts(), ex.route.retries().attempts() + 1);
    if (ex.route.retries().retriesOn("connect-failure") && ex.connectFailures < connectTries
        && ex.isReplayable() && !connection.closing) {
      context.metrics.retries(ex.route.name()).retried("connect-failure");
      avoidRefusingBackends(ex);
      connectUpstream(ex);
    } else {
      connection.completion.respondLocally(ex, HttpResponseStatus.BAD_GATEWAY, reason);
    }
  }

  /** A retry does not go to a backend of the group that refused a connection within the ejection window. */
  private static void avoidRefusingBackends(Exchange ex) {
    OutlierDetector outliers = ex.group.outliers();
    ex.selection.avoid(outliers::recentlyRefused);
  }

  /**
   * Whether attempts are left and the request can be sent again (the retry budget aside): not once
   * the client may have had bytes of the answer, a 1xx included ({@link Exchange#answerBegun}).
   */
  boolean couldRetry(Exchange ex) {
    return ex.attempts - ex.connectFailures <= ex.route.retries().attempts() && ex.isReplayable()
        && !connection.closing && !ex.answerBegun();
  }

  /**
   * Whether a backend other than the one that answered could take the request: a retry on the
   * answer's status is sent only then, else the answer itself goes to the client (a 503 with its
   * Retry-After and body, not a 502 of Meridian's for want of a backend). Leaves the answering
   * backend excluded from the request's selection.
   */
  static boolean anotherBackendToTry(Exchange ex) {
    ex.selection.exclude(ex.backend);
    String decision = ex.selection.decision();
    dev.meridian.balancer.StickyPin.Outcome pin = ex.selection.pinOutcome();
    dev.meridian.balancer.StickyPin.Reason pinReason = ex.selection.pinReason();
    boolean another = ex.group.selectorFor(ex.selection.isWrite()).select(ex.selection) != null;
    ex.selection.decision(decision); // the peek's choice is no decision: the answer may still go out
    ex.selection.pinOutcome(pin, pinReason);
    return another;
  }

  /**
   * Whether a request that reached a backend may be retried: the condition is retried, attempts remain
   * (connect failures do not count), the request can be sent again, and the route's budget allows it.
   * A retry is counted by {@code reason}, a refusal by the budget as such.
   */
  boolean mayRetry(Exchange ex, boolean conditionRetried, String reason) {
    boolean allowed = conditionRetried && couldRetry(ex);
    if (allowed && !ex.route.retryBudget().tryRetry()) {
      log.warn("{} {}: route {}: retry budget spent; not retrying", ex.requestId, connection.clientIp,
          ex.route.name());
      context.metrics.retries(ex.route.name()).budgetExhausted();
      return false;
    }
    if (allowed) {
      context.metrics.retries(ex.route.name()).retried(reason);
    }
    return allowed;
  }
}
