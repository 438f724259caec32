package dev.meridian.proxy.server;

import dev.meridian.balancer.ReadYourWritesCookie;
import dev.meridian.proxy.http.ViaHeader;
import dev.meridian.proxy.routing.Route;
import dev.meridian.proxy.server.Exchange.ResponsePhase;
import dev.meridian.proxy.upstream.BackendHandler;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phase 4 of a request: the backend's response, back to the client. The head is checked (a malformed
 * one is 502), passed to passive health, retried elsewhere when the route retries its status, and
 * rewritten (hop-by-hop fields, Via, request id, debug headers); the body streams through as it
 * arrives. Interim (1xx) responses pass on; 101 hands both connections to a {@link TunnelHandler}. How
 * long the backend may take to answer is {@link ResponseHeadersTimer}'s.
 */
final class ResponseRelay {
  /**
   * The interim response to relay: its status, and its Link fields (what 103 Early Hints is for; the
   * route's response-header rules are not applied to an interim response, so nothing else of it,
   * such as a Set-Cookie, goes on).
   */
  private static FullHttpResponse interim(HttpVersion version, HttpResponse response) {
    DefaultFullHttpResponse interim = new DefaultFullHttpResponse(version, response.status());
    for (String link : response.headers().getAll(LINK)) {
      interim.headers().add(LINK, link);
    }
    return interim;
  }

  private static final io.netty.util.AsciiString LINK = io.netty.util.AsciiString.cached("link");

  /** Interim (1xx) responses relayed for one request; one more makes the response malformed (502). */
  static final int MAX_INTERIM_RESPONSES = 16;

  static final String BACKEND_HEADER = "X-Meridian-Backend";
  static final String DECISION_HEADER = "X-Meridian-Decision";
  private static final Logger log = LoggerFactory.getLogger(ResponseRelay.class);

  private final FrontendHandler connection;
  private final ProxyContext context;

  ResponseRelay(FrontendHandler connection) {
    this.connection = connection;
    this.context = connection.context;
  }

  /** A message from the exchange's upstream: a response head or a part of its body. */
  void onMessage(Exchange ex, Object msg) {
    if (msg instanceof HttpResponse response) {
      onHead(ex, response);
    } else if (msg instanceof HttpContent content) {
      onContent(ex, content);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onHead(Exchange ex, HttpResponse response) {
    ClientSide client = connection.client;
    ExchangeCompletion completion = connection.completion;
    if (response.decoderResult().isFailure()) {
      ReferenceCountUtil.release(response);
      context.metrics.upstreamFailed(ex.group.group().name(), ex.backend.id(), "protocol");
      log.warn("{} {}: backend {} sent a malformed response: {}", ex.requestId, connection.clientIp,
          ex.backend, response.decoderResult().cause().toString());
      completion.abandonUpstream(ex);
      completion.failResponse(ex, HttpResponseStatus.BAD_GATEWAY,
          "backend " + ex.backend.id() + " sent a malformed response");
      return;
    }
    HttpResponseStatus status = response.status();
    if (status.code() != 101 && status.codeClass() == HttpStatusClass.INFORMATIONAL
        && ++ex.interimResponses > MAX_INTERIM_RESPONSES) {
      ReferenceCountUtil.release(response);
      context.metrics.upstreamFailed(ex.group.group().name(), ex.backend.id(), "protocol");
      log.warn("{} {}: backend {} sent more than {} interim (1xx) responses", ex.requestId, connection.clientIp,
          ex.backend, MAX_INTERIM_RESPONSES);
      completion.abandonUpstream(ex);
      completion.failResponse(ex, HttpResponseStatus.BAD_GATEWAY,
          "backend " + ex.backend.id() + " sent a malformed response (a flood of interim responses)");
      return;
    }
    if (status.code() != 101 && status.codeClass() == HttpStatusClass.INFORMATIONAL) {
      // An interim response is no answer yet: the response-headers timer keeps running. From an
      // HTTP/1.1 backend its empty end follows; from an HTTP/2 one it came whole.
      ex.response = response instanceof FullHttpResponse ? ResponsePhase.AWAITED : ResponsePhase.INTERIM;
      if (!ex.clientVersion.equals(HttpVersion.HTTP_1_0)) {
        // A full (bodiless) message, so the encoder knows the interim response ended.
        client.writeAndFlush(interim(ex.clientVersion, response))
            .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
      }
      ReferenceCountUtil.release(response);
      if (status.code() == 100 && ex.expectsContinue && !ex.requestComplete) {
        // The 100 the client waited for: its body comes now, and the backend's answer is awaited
        // from the body's end (the request's deadline, if any, still runs).
        ex.cancelResponseTimer();
        connection.responseTimer.watchDeadline(ex);
        if (ex.bodyProgressNanos == 0) {
          ex.bodyProgressNanos = System.nanoTime(); // the body's rate is timed from here
        }
      }
      return;
    }
    ex.cancelResponseTimer();
    if (status.codeClass() == HttpStatusClass.INFORMATIONAL) {
      onSwitchingProtocols(ex, response);
      return;
    }
    long rtt = System.nanoTime() - ex.sentNanos + ex.injectedDelayNanos;
    connection.meters.upstreamResponded(ex.group.group().name(), ex.backend.id(), rtt);
    if (status.code() >= 500) {
      context.metrics.upstreamServerError(ex.group.group().name(), ex.backend.id(), status.code());
    }
    ex.upstreamNanos = rtt;
    ex.upstreamStatus = status.code();
    ex.group.outliers().onResponse(ex.backend, status.code());
    boolean retried = ex.route.retries().retriesStatus(status.code()) && ex.requestComplete && ex.isIdempotent()
        && !ex.answerBegun();
    if (retried && ex.race != null && connection.hedging().takeOver(ex)) {
      log.info("{} {}: backend {} answered {}; its hedge races on", ex.requestId, connection.clientIp,
          ex.backend, status.code());
      ReferenceCountUtil.release(response);
      return;
    }
    if (retried && connection.attempts.couldRetry(ex) && UpstreamAttempts.anotherBackendToTry(ex)
        && connection.attempts.mayRetry(ex, true, "status")) {
      log.info("{} {}: backend {} answered {}; retrying elsewhere", ex.requestId, connection.clientIp,
          ex.backend, status.code());
      ReferenceCountUtil.release(response);
      ex.lastFailure = "backend " + ex.backend.id() + " answered " + status.code();
      if (ex.inFlightTo != null) {
        ex.inFlightTo.observe(status.code() >= 500 ? ex.group.stats().failureLatency(ex.backend, rtt) : rtt);
      }
      completion.abandonUpstream(ex);
      connection.attempts.connectUpstream(ex);
      return;
    }
    if (ex.inFlightTo != null) {
      // A 5xx counts as slow, or a backend that fails at once would look the fastest (GroupStats).
      ex.inFlightTo.observe(status.code() >= 500 ? ex.group.stats().failureLatency(ex.backend, rtt) : rtt);
    }
    if (ex.route.hedge() != null) {
      ex.route.hedge().record(rtt);
      if (ex.race != null) {
        connection.hedging().cancel(ex); // this answer won: the hedges still racing are cancelled
      }
    }
    if (ex.cache != null && ex.cache.invalidates != null) {
      connection.cache.invalidateIfSucceeded(ex, status.code());
    }
    if (ex.route.cache() != null && connection.cache.onResponseHead(ex, response)) {
      return;
    }
    ex.response = ResponsePhase.STREAMING;
    ex.status = response.status().code(); // the cache may have made the origin's 200 a 206
    // A 204 must not announce a body (RFC 9110 section 8.6); one that does may have sent it anyway,
    // and bytes arriving after the pool reused the connection would answer the next request.
    boolean bodyOn204 = status.code() == 204 && announcesBody(response.headers());
    ex.backendKeepAlive = HttpUtil.isKeepAlive(response) && !bodyOn204;
    // An answer before the request's body ended (a 413, a final status instead of 100 Continue)
    // closes the connection after it, as finishExchange does: the response says so.
    boolean keepAlive = ex.clientKeepAlive && !context.isDraining() && (ex.requestComplete || ex.bodiless);
    if (ex.upstream instanceof Http2StreamChannel) {
      response.setProtocolVersion(ViaHeader.HTTP_2); // for Via: the stream's response says 1.1
    }
    boolean closeDelimited = ex.policies.responseRewriter.rewrite(response, ex.clientVersion, ex.requestId,
        keepAlive, false);
    ex.closeAfter = !keepAlive || closeDelimited;
    addSteeringHeaders(ex, response);
    ex.sentHeaders = response.headers();
    if (response instanceof FullHttpResponse full) {
      if (ex.cache != null && ex.cache.fill != null) {
        connection.cache.onBody(ex, full);
      }
      // A response that came whole: from HTTP/2, one that ended with its HEADERS (a gRPC
      // trailers-only answer, a 204); from HTTP/1.1, a small body that arrived with its head. It goes
      // on whole, in one write (an HTTP/2 client sees one HEADERS frame that ends the stream).
      ex.responseBytes += full.content().readableBytes();
      ex.response = ResponsePhase.RELAYED;
      client.write(full);
      client.flush();
      completion.finishExchange(ex);
      return;
    }
    client.write(response);
  }

  private void onContent(Exchange ex, HttpContent content) {
    ClientSide client = connection.client;
    if (ex.response == ResponsePhase.INTERIM) {
      // The empty end of a 1xx response: the final response follows on the same connection.
      ex.response = ResponsePhase.AWAITED;
      content.release();
      return;
    }
    if (!ex.responseStarted()) {
      content.release();
      return;
    }
    if (content.decoderResult().isFailure()) {
      // A body that broke its framing (a bad chunk size, say): the client must see the response cut
      // off, never a complete-looking one that lost bytes.
      log.warn("{} {}: backend {} sent a malformed response body after {} bytes: {}; cutting the client's"
          + " response off", ex.requestId, connection.clientIp, ex.backend, ex.responseBytes,
          content.decoderResult().cause().toString());
      content.release();
      context.metrics.upstreamFailed(ex.group.group().name(), ex.backend.id(), "protocol");
      connection.completion.abandonUpstream(ex);
      cutOff(ex, "backend " + ex.backend.id() + " sent a malformed response body");
      return;
    }
    ex.responseBytes += content.content().readableBytes();
    if (ex.cache != null && ex.cache.fill != null) {
      connection.cache.onBody(ex, content);
    }
    if (content instanceof LastHttpContent last) {
      ex.response = ResponsePhase.RELAYED;
      if (ex.clientVersion.equals(HttpVersion.HTTP_1_0) && !last.trailingHeaders().isEmpty()) {
        last.release();
        client.write(LastHttpContent.EMPTY_LAST_CONTENT);
      } else {
        client.write(last);
      }
      client.flush();
      connection.completion.finishExchange(ex);
    } else {
      client.write(content);
      if (!client.isWritable()) {
        // Stop at this read, not at the end of the read loop (up to 16 reads of 64 KiB).
        ReadDemand.pause(ex.upstream);
      }
    }
  }

  /** Whether response headers announce a body: a non-zero Content-Length, or a Transfer-Encoding. */
  private static boolean announcesBody(HttpHeaders headers) {
    String announced = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    return announced != null && !"0".equals(announced.trim()) || headers.contains(HttpHeaderNames.TRANSFER_ENCODING);
  }

  /** The backend's bytes read so far were handed on: flush them, and read on while the client keeps up. */
  void onReadComplete(Exchange ex) {
    connection.client.flush();
    if (ex.responseComplete()) {
      return;
    }
    if (ex.responseStarted() && !connection.client.isWritable()) {
      ReadDemand.pause(ex.upstream); // a head still to come (1xx, or split over reads) is read on
    } else if (ReadDemand.readsOneAtATime(ex.upstream)) {
      ReadDemand.resume(ex.upstream);
    }
  }

  /**
   * Nothing moved on the upstream connection for the upstream idle timeout: a response in progress is
   * cut off, and a request whose body the backend stopped taking is answered 504 (else, with no
   * response-headers timer before the request's end, it would wait for ever).
   */
  void onUpstreamIdle(Exchange ex) {
    if (ClientStalls.backendStoppedTakingBody(ex)) {
      failStoppedBody(ex);
      return;
    }
    if (!ex.responseStarted() || ex.responseComplete()) {
      return;
    }
    if (ClientStalls.isStoppedReader(connection, ex)) {
      // Meridian stopped reading the backend because the client stopped reading: not the backend's fault.
      ClientStalls.cutOffStoppedReader(connection, ex);
      return;
    }
    log.warn("{} {}: backend {} sent nothing for {} ms mid-response; cutting the client's response off",
        ex.requestId, connection.clientIp, ex.backend, ex.policies.settings.timeouts().upstreamIdle().toMillis());
    context.metrics.upstreamFailed(ex.group.group().name(), ex.backend.id(), "timeout");
    connection.completion.abandonUpstream(ex);
    cutOff(ex, "backend " + ex.backend.id() + " sent nothing mid-response for timeouts.upstream-idle");
  }

  /**
   * Cuts off a response its backend failed in the middle of: what came goes out, then the client
   * connection closes, or an HTTP/2 stream is reset with INTERNAL_ERROR (a gRPC client reads it as
   * INTERNAL, a failure, where CANCEL would say its own caller cancelled). The access log line says
   * why ({@code reason}).
   */
  void cutOff(Exchange ex, String why) {
    ex.localReason = why;
    connection.client.flush();
    connection.client.reset(io.netty.handler.codec.http2.Http2Error.INTERNAL_ERROR);
  }

  /**
   * Answers 504 to a request whose body the backend took none of for the upstream idle timeout, while
   * it held the body's next bytes back (its connection unwritable): the backend, not the client,
   * stalled it.
   */
  private void failStoppedBody(Exchange ex) {
    log.warn("{} {}: backend {} took none of the request body for {} s (after {} bytes); 504", ex.requestId,
        connection.clientIp, ex.backend, ex.policies.settings.timeouts().upstreamIdle().toSeconds(),
        ex.bodyBytesForwarded);
    context.metrics.upstreamFailed(ex.group.group().name(), ex.backend.id(), "timeout");
    ex.group.outliers().onGatewayFailure(ex.backend, "timeout");
    ExchangeCompletion completion = connection.completion;
    completion.abandonUpstream(ex);
    ex.clientKeepAlive = false; // the rest of the body is not read
    ex.bodiless = false;
    completion.failResponse(ex, HttpResponseStatus.GATEWAY_TIMEOUT,
        "backend " + ex.backend.id() + " stopped reading the request body");
  }

  private void onSwitchingProtocols(Exchange ex, HttpResponse response) {
    ExchangeCompletion completion = connection.completion;
    if (ex.upgrade == null) {
      log.warn("{} {}: backend {} switched protocols without being asked", ex.requestId, connection.clientIp,
          ex.backend);
      completion.abandonUpstream(ex);
      completion.failResponse(ex, HttpResponseStatus.BAD_GATEWAY, "backend switched protocols unasked");
      return;
    }
    String protocol = response.headers().get(HttpHeaderNames.UPGRADE);
    if (protocol == null || !Route.upgradeToken(protocol).equals(Route.upgradeToken(ex.upgrade))) {
      // A 101 names the protocol switched to (RFC 9110 section 15.2.2): the one the client asked for.
      log.warn("{} {}: backend {} switched protocols to {} (asked: {})", ex.requestId, connection.clientIp,
          ex.backend, protocol == null ? "no protocol named" : "'" + protocol + "'", ex.upgrade);
      completion.abandonUpstream(ex);
      completion.failResponse(ex, HttpResponseStatus.BAD_GATEWAY, "backend switched to a protocol not asked for");
      return;
    }
    ex.response = ResponsePhase.RELAYED;
    ex.status = 101;
    ex.upstreamStatus = 101;
    ex.endInFlight();
    ex.releaseReplay();
    ex.policies.responseRewriter.rewrite(response, ex.clientVersion, ex.requestId, true, true);
    if (ex.route.sticky() != null) {
      StickySessions.onResponse(ex, context, response, clientUsedTls(ex));
    }
    ex.sentHeaders = response.headers();
    connection.client.writeAndFlush(response);
    Channel upstream = ex.upstream;
    BackendHandler.of(upstream).detach();
    connection.exchange = null;
    // Counted as answered at its 101 (requests in flight, region traffic, latency); its bytes and
    // access log line come when it closes.
    RequestEnd.record(connection, ex, 101, false, false);
    connection.headTimer.cancel();
    connection.inbound.release();
    TunnelHandler.Tunnel tunnel = TunnelHandler.splice(connection.client.socket(), upstream, // HTTP/1 only
        ex.route.tunnelIdle());
    context.metrics.tunnelOpened();
    connection.client.socket().closeFuture().addListener(closed -> {
      context.metrics.tunnelClosed();
      connection.clientClosed(); // the handler left the pipeline: its close would not run
      ex.bodyBytesForwarded += tunnel.bytesToBackend();
      ex.responseBytes += tunnel.bytesToClient();
      // Its bytes each way in meridian_request_bytes_total and meridian_response_bytes_total (0 at the
      // 101), and its access log line with its whole life.
      context.metrics.routeRequests(ExchangeCompletion.routeName(ex))
          .addBytes(tunnel.bytesToBackend(), tunnel.bytesToClient());
      AccessLogRecorder.record(context, connection, ex, 101, System.nanoTime() - ex.startNanos, false);
    });
  }

  /** The sticky-session cookie, debug headers (which backend, why) and the read-your-writes cookie after a write. */
  private void addSteeringHeaders(Exchange ex, HttpResponse response) {
    if (ex.route.sticky() != null) {
      StickySessions.onResponse(ex, context, response, clientUsedTls(ex));
    }
    if (ex.policies.settings.debugHeaders()) {
      response.headers().set(BACKEND_HEADER, ex.backend.id());
      String decision = ex.selection.decision();
      if (decision != null) {
        response.headers().set(DECISION_HEADER, decision);
      }
    }
    GroupRuntime group = ex.group;
    if (ex.selection.isWrite() && group.readYourWritesMillis() > 0 && group.writer().isPresent()) {
      long window = group.readYourWritesMillis();
      String value = ex.policies.readYourWrites.issue(System.currentTimeMillis() + window);
      response.headers().add(HttpHeaderNames.SET_COOKIE, ReadYourWritesCookie.NAME + "=" + value
          + "; Max-Age=" + Math.max(1, window / 1000) + "; Path=/; HttpOnly; SameSite=Lax");
    }
  }

  /**
   * Whether the client reached Meridian over TLS, or reached the trusted proxy in front of it so (its
   * X-Forwarded-Proto, kept for the backend): a sticky cookie's {@code secure = auto} follows it.
   */
  private boolean clientUsedTls(Exchange ex) {
    return connection.isTls() || "https".equalsIgnoreCase(ex.request.headers().get("x-forwarded-proto"));
  }
}
