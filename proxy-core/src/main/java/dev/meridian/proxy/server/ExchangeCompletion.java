package dev.meridian.proxy.server;

import dev.meridian.proxy.http.GrpcLocalAnswers;
import dev.meridian.proxy.http.LocalResponses;
import dev.meridian.proxy.http1.ServerHttpCodec;
import dev.meridian.proxy.server.Exchange.ResponsePhase;
import dev.meridian.proxy.upstream.BackendHandler;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Phase 5 of a request: how it ends. Either Meridian answers it itself (a refusal, 502/503/504, an
 * injected fault), or the response completed; then the upstream connection goes back to the pool (or
 * closes), the request is counted, and the connection's next request may start, or the connection
 * closes once what was written is flushed.
 */
final class ExchangeCompletion {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ExchangeCompletion.class);
  private final FrontendHandler connection;
  private final ProxyContext context;
  private final Runnable onSettled = this::onSettled;
  /** The finished exchange's upstream connection, pooled by {@link #onSettled}; or null. */
  private Channel settlingUpstream;

  ExchangeCompletion(FrontendHandler connection) {
    this.connection = connection;
    this.context = connection.context;
  }

  /** Closes the exchange's upstream connection without reporting the close back to it. */
  void abandonUpstream(Exchange ex) {
    if (ex.race != null) {
      connection.hedging().cancel(ex);
    }
    ex.cancelResponseTimer();
    ex.endInFlight();
    Channel upstream = ex.upstream;
    ex.upstream = null;
    if (upstream != null) {
      BackendHandler.of(upstream).detach();
      upstream.close();
    }
  }

  /**
   * Answers the connection's request 503 (with Connection: close) when the drain timeout passed
   * before its response began, rather than leaving the close that follows to reset it: the client
   * learns the proxy stopped, not that the network failed. A response under way is cut off by the close.
   */
  void answerAtDrainTimeout() {
    Exchange ex = connection.exchange;
    if (ex == null || connection.closing || ex.responseStarted()) {
      return;
    }
    log.warn("{} {}: the drain timeout passed before {} answered; 503", ex.requestId, connection.clientIp,
        ex.backend == null ? "a backend" : "backend " + ex.backend.id());
    ex.clientKeepAlive = false;
    respondLocally(ex, HttpResponseStatus.SERVICE_UNAVAILABLE,
        "Meridian is shutting down: server.drain-timeout passed before the backend answered");
  }

  /** Ends a request that reached a backend with a local error, or cuts the response off. */
  void failResponse(Exchange ex, HttpResponseStatus status, String message) {
    if (ex.responseStarted()) {
      connection.client.close();
    } else {
      respondLocally(ex, status, message);
    }
  }

  /**
   * Closes the client (an HTTP/2 stream: resets it) when a response Meridian made could not be
   * written, its head encoded or its bytes copied out (direct memory full): the client must not wait
   * for an answer that will never come.
   */
  private final ChannelFutureListener closeClientOnFailure = this::closeClientIfFailed;

  private void closeClientIfFailed(io.netty.channel.ChannelFuture written) {
    if (!written.isSuccess()) {
      connection.client.close();
    }
  }

  /** Writes a response Meridian makes itself; the connection stays open only if nothing is left unread. */
  void respondLocally(Exchange ex, HttpResponseStatus status, String message) {
    respondLocally(ex, status, message, 0);
  }

  /** Answers as admission decided: its status and message, with {@code Retry-After} or {@code Allow} when it set them. */
  void respondLocally(Exchange ex, RequestAdmission.Verdict verdict) {
    respondLocally(ex, verdict.status(), verdict.message(), verdict.retryAfterSeconds(), verdict.allow());
  }

  /** Writes a response Meridian makes itself, with {@code Retry-After} when {@code retryAfterSeconds} > 0. */
  void respondLocally(Exchange ex, HttpResponseStatus status, String message, long retryAfterSeconds) {
    respondLocally(ex, status, message, retryAfterSeconds, null);
  }

  private void respondLocally(Exchange ex, HttpResponseStatus status, String message, long retryAfterSeconds,
      String allow) {
    if (status.code() >= 500 && ex.cache != null && ex.cache.stale != null && connection.cache.answerStale(ex)) {
      return; // the origin failed: a stale entry the route may serve on error answers instead
    }
    abandonUpstream(ex);
    ex.localReason = message;
    boolean keepAlive = localKeepAlive(ex);
    if (LocalResponses.namesBackends(status) && !ex.policies.settings.debugHeaders()) {
      // Which group, backend or region failed is the operator's to know (the failure was logged).
      log.debug("{} {}: {}: {}", ex.requestId, connection.clientIp, status.code(), message);
      message = LocalResponses.publicReason(status);
    }
    FullHttpResponse response = LocalResponses.create(status, message, responseVersion(ex),
        keepAlive, ex.policies.requestRewriter.requestIdHeader(), ex.requestId);
    if (ex.policies.settings.debugHeaders() && ex.selection.decision() != null) {
      response.headers().set(ResponseRelay.DECISION_HEADER, ex.selection.decision());
    }
    if (retryAfterSeconds > 0) {
      response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds);
    } else if (status.code() == 503 && !ex.injectedAbort) {
      // Every 503 Meridian makes (no backend, residency, a strict sticky pin, shutting down) is
      // temporary: a client that honours Retry-After waits a second rather than retrying at once. (A
      // drill's injected 503 stands for the backend's own answer, which may carry none.)
      response.headers().set(HttpHeaderNames.RETRY_AFTER, 1);
    }
    if (allow != null) {
      response.headers().set(HttpHeaderNames.ALLOW, allow);
    }
    if (ex.http2 && GrpcLocalAnswers.isGrpc(ex.request.headers())) {
      // A gRPC call is answered in gRPC's words (logged and counted with the HTTP status it stands for).
      FullHttpResponse grpc = GrpcLocalAnswers.trailersOnly(response, status, message,
          ex.policies.requestRewriter.requestIdHeader());
      response.release();
      writeLocal(ex, grpc, keepAlive, status.code());
      return;
    }
    writeLocal(ex, response, keepAlive);
  }

  /** Writes an answer from the edge cache, its head made ready for this client like a backend's. */
  void respondFromCache(Exchange ex, FullHttpResponse response) {
    boolean keepAlive = localKeepAlive(ex);
    ex.policies.responseRewriter.rewrite(response, ex.clientVersion, ex.requestId, keepAlive, false);
    writeLocal(ex, response, keepAlive);
  }

  private boolean localKeepAlive(Exchange ex) {
    return ex.clientKeepAlive && !context.isDraining() && (ex.requestComplete || ex.bodiless);
  }

  private void writeLocal(Exchange ex, FullHttpResponse response, boolean keepAlive) {
    writeLocal(ex, response, keepAlive, response.status().code());
  }

  /** Writes a local answer; the request is logged and counted with {@code status}. */
  private void writeLocal(Exchange ex, FullHttpResponse response, boolean keepAlive, int status) {
    ex.response = ResponsePhase.LOCAL;
    ex.status = status;
    ex.closeAfter = !keepAlive;
    ex.responseBytes += response.content().readableBytes();
    ex.sentHeaders = response.headers();
    connection.client.writeAndFlush(response).addListener(closeClientOnFailure);
    if (ex.closeAfter || ex.requestComplete) {
      finishExchange(ex);
      return;
    }
    // Otherwise the (empty) rest of the request is discarded, then finishExchange runs. It may
    // already wait in the inbound queue (a connect failure answered from a pool callback): nothing
    // else would look at it, and the client's next request would never be read.
    connection.inbound.drain();
    connection.inbound.maybeRead();
  }

  private static HttpVersion responseVersion(Exchange ex) {
    return ex.clientVersion.equals(HttpVersion.HTTP_1_0) ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
  }

  /** Ends the exchange: the upstream connection goes back to the pool or closes; the next request runs. */
  void finishExchange(Exchange ex) {
    EdgeCachePhase.finishLead(ex, null);
    if (ex.race != null) {
      connection.hedging().cancel(ex);
    }
    ex.endInFlight();
    ex.releaseReplay();
    Channel upstream = ex.upstream;
    ex.upstream = null;
    ex.cancelResponseTimer();
    // A body the backend's close delimited ended with that close: the connection is gone.
    boolean reuse = upstream != null && upstream.isActive() && ex.requestComplete && ex.backendKeepAlive;
    if (upstream != null) {
      // Detach now: any byte the backend sent after the response's end (a body on a 204 or HEAD
      // response, say) arrives while no request owns the connection, and so closes it.
      BackendHandler.of(upstream).detach();
      if (!reuse) {
        upstream.close();
      }
    }
    RequestEnd.record(connection, ex, ex.status, false);
    connection.exchange = null;
    // A drained HTTP/1 connection whose response did not say Connection: close is kept until the
    // drain's grace is over: its client may already be sending the next request (answered with close).
    if (ex.closeAfter || !ex.requestComplete || connection.graceOver
        || context.isDraining() && connection.http2Stream
        || connection.inputClosed && connection.inbound.isEmpty()) {
      connection.closing = true;
      connection.inbound.release();
      if (reuse) {
        upstream.eventLoop().execute(() -> context.pools.forLoop(upstream.eventLoop()).release(upstream));
      }
      closeAfterWrites(!ex.requestComplete);
      return;
    }
    // The pool gets the connection back, and the next pipelined request starts, only after the
    // backend's current read is fully decoded: a connection must not serve the next request while
    // bytes of the previous response may still be in its decoder.
    connection.settling = true;
    settlingUpstream = reuse ? upstream : null;
    connection.client.eventLoop().execute(onSettled);
  }

  /** After an exchange finished and the backend's read was decoded: pool the upstream, start the next. */
  private void onSettled() {
    connection.settling = false;
    Channel upstream = settlingUpstream;
    settlingUpstream = null;
    try {
      if (upstream != null) {
        context.pools.forLoop(upstream.eventLoop()).release(upstream);
      }
    } finally {
      startNext();
    }
  }

  /** Starts the connection's next request (if one waits) once the last one settled. */
  private void startNext() {
    if (connection.closing || connection.exchange != null) {
      return;
    }
    if (!connection.http2Stream) {
      connection.headTimer.start(); // an HTTP/2 stream carries one request: no next head to time
    }
    readOnAfterRefusedUpgrade();
    connection.inbound.drain();
    connection.flushUpstream();
    connection.inbound.maybeRead();
  }

  /**
   * The decoder holds what followed a request asking to switch protocols until its answer (see
   * {@link ServerHttpCodec#readOnAfterUpgradeRefused}); with no request left waiting, the exchange
   * that just finished was that request's, answered without a switch: read what followed as requests.
   */
  private void readOnAfterRefusedUpgrade() {
    if (connection.codec == null || !connection.inbound.isEmpty()) {
      return;
    }
    try {
      connection.codec.readOnAfterUpgradeRefused();
    } catch (Exception e) {
      connection.clientFailed(e);
    }
  }

  /**
   * Closes once what was written is flushed, lingering (see {@link LingeringClose}) when the client
   * may still be sending; an HTTP/2 stream closes (or resets) its stream only.
   */
  private void closeAfterWrites(boolean clientMaySend) {
    connection.client.closeWhenWritten(clientMaySend && !connection.inputClosed);
  }

  static String routeName(Exchange ex) {
    return ex.route == null ? "none" : ex.route.name();
  }
}
