package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.ReadYourWritesCookie;
import dev.meridian.balancer.SelectionContext;
import dev.meridian.proxy.http.LocalResponses;
import dev.meridian.proxy.regions.RegionCounters;
import dev.meridian.proxy.regions.RegionFault;
import dev.meridian.proxy.http1.ServerHttpCodec;
import dev.meridian.proxy.upstream.BackendHandler;
import dev.meridian.proxy.upstream.StreamUnavailableException;
import dev.meridian.proxy.upstream.UnprocessedRequestException;
import dev.meridian.proxy.upstream.UpstreamListener;
import dev.meridian.proxy.upstream.UpstreamPool;
import dev.meridian.health.OutlierDetector;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards one client connection's requests to backends and their responses back, one request at a
 * time and in order (pipelined requests wait their turn).
 *
 * <p>Phases of a request: {@link #startRequest} (validate, route, choose a backend, see
 * {@link RequestAdmission}), {@link #connectUpstream} (pooled connection on this event loop),
 * {@link #forwardBody} (request body as it arrives), {@link #onUpstreamMessage} (response back), and
 * {@link #finishExchange} (connection reuse). Failures before anything reached the backend try the
 * next backend; later ones end in 502/504 or a visibly cut-off response.
 *
 * <p>Back-pressure: both channels run with auto-read off. The client is read only while the current
 * request's body can be written upstream (writable), the backend only while the client is writable.
 * Memory per connection is bounded by the write watermarks plus one read.
 *
 * <p>Thread safety: everything runs on the client channel's event loop, which also owns the upstream
 * connection.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter implements UpstreamListener {
  /** The handler's name in the client pipeline. */
  static final String NAME = "frontend";
  private static final String BACKEND_HEADER = "X-Meridian-Backend";
  private static final String DECISION_HEADER = "X-Meridian-Decision";
  /** How often one request is sent again after backends said they did not process it. */
  private static final int MAX_UNPROCESSED_RESENDS = 3;
  private static final Logger log = LoggerFactory.getLogger(FrontendHandler.class);

  private final ProxyContext context;
  private final ServerHttpCodec codec;
  private final String scheme;
  private final ArrayDeque<Object> inbound = new ArrayDeque<>();
  /** The selection state of the current exchange; one per connection, reset for each request. */
  private final SelectionContext selection = new SelectionContext();
  private ChannelHandlerContext ctx;
  private Exchange exchange;
  private ScheduledFuture<?> headTimer;
  /** The connection's response-headers timer (see {@link #startResponseTimer}), or null. */
  private ScheduledFuture<?> responseTimer;
  private final Runnable onResponseTimer = this::onResponseTimer;
  /**
   * Marks the current exchange's head as written to its upstream, or closes an upstream whose write
   * failed. One listener per connection: a head's write completes before its response can arrive, so
   * before another exchange can take the same upstream.
   */
  private final ChannelFutureListener onHeadWritten = f -> {
    Exchange current = exchange;
    if (!f.isSuccess()) {
      f.channel().close();
    } else if (current != null && current.upstream == f.channel()) {
      current.headWritten = true;
    }
  };
  private boolean closing;
  private boolean upstreamNeedsFlush;
  private boolean inputClosed;
  /** This handler serves one HTTP/2 stream (a child channel) rather than an HTTP/1 connection. */
  private boolean http2Stream;
  /** On an HTTP/2 stream: the client ended its request (END_STREAM arrived). */
  private boolean requestEnded;
  /** An exchange just finished; its upstream connection goes back to the pool in a moment. */
  private boolean settling;
  private String clientIp;
  private InetAddress clientAddress;

  FrontendHandler(ProxyContext context, ServerHttpCodec codec, String scheme) {
    this.context = context;
    this.codec = codec;
    this.scheme = scheme;
  }

  // ---- client connection events ------------------------------------------------------------

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      start(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    start(ctx);
  }

  /** Starts serving the connection (or HTTP/2 stream) once it is active and this handler is in place. */
  private void start(ChannelHandlerContext ctx) {
    if (this.ctx != null) {
      return;
    }
    this.ctx = ctx;
    this.http2Stream = ctx.channel() instanceof Http2StreamChannel;

    Channel connection = http2Stream ? ctx.channel().parent() : ctx.channel();
    InetSocketAddress remote = (InetSocketAddress) connection.remoteAddress();
    this.clientAddress = remote == null ? null : remote.getAddress();
    this.clientIp = clientAddress == null ? "unknown" : clientAddress.getHostAddress();
    context.metrics.clientConnectionOpened();
    if (!http2Stream) {
      startHeadTimer();
    }
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof LastHttpContent) {
      requestEnded = true;
    }
    inbound.add(msg);
    drainInbound();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    flushUpstream();
    maybeReadClient();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Exchange ex = exchange;
    if (ctx.channel().isWritable() && ex != null && ex.upstream != null && ex.responseStarted
        && !ex.responseComplete) {
      ex.upstream.read();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      onClientIdle();
      return;
    }
    if (evt instanceof ChannelInputShutdownEvent) {
      // The client finished sending (half-close): answer what it sent, then close.
      inputClosed = true;
      if (exchange == null && inbound.isEmpty()) {
        ctx.close();
      }
      return;
    }
    if (evt == DrainEvent.INSTANCE) {
      if (exchange == null) {
        ctx.close();
      } else {
        exchange.clientKeepAlive = false;
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  /**
   * Nothing moved on the client connection for {@code timeouts.client-idle}: an idle keep-alive
   * connection closes; a request whose body stalled gets 408 (a slow-body attack must not hold the
   * connection and its upstream forever); a response in progress is left to the backend's pace.
   */
  private void onClientIdle() {
    Exchange ex = exchange;
    if (ex == null) {
      log.debug("{}: client idle, closing", clientIp);
      ctx.close();
    } else if (!ex.requestComplete && !ex.responseStarted && !(ex.upstream == null && ex.injectedDelayNanos > 0)) {
      // (A request a drill's delay holds is waiting for its backend, not stalled by the client.)
      log.info("{} {}: request body stalled for {}; 408", ex.requestId, clientIp,
          context.settings.timeouts().clientIdle());
      abandonUpstream(ex);
      ex.clientKeepAlive = false;
      ex.bodiless = false;
      respondLocally(ex, HttpResponseStatus.REQUEST_TIMEOUT, "the request body stopped arriving");
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    cancelHeadTimer();
    if (responseTimer != null) {
      responseTimer.cancel(false);
      responseTimer = null;
    }
    releaseInbound();
    Exchange ex = exchange;
    exchange = null;
    if (ex != null) {
      ex.cancelResponseTimer();
      ex.endInFlight();
      ex.releaseReplay();
      if (ex.upstream != null) {
        BackendHandler.of(ex.upstream).detach();
        ex.upstream.close();
      }
      // Not finished (finishExchange clears exchange): counted here, whatever answered it.
      context.metrics.requestFinished(routeName(ex), ex.status == 0 ? 499 : ex.status);
      recordRegionOutcome(ex, ex.responseStarted && !ex.responseComplete);
    }
    context.metrics.clientConnectionClosed();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Http2Error streamError = cause instanceof Http2FrameStreamException e ? e.error()
        : cause instanceof Http2Exception.StreamException e ? e.error() : null;
    if (streamError == Http2Error.PROTOCOL_ERROR && requestEnded) {
      // RFC 9113 section 5.1: HEADERS on a stream the client already ended (Netty's decoder calls it
      // a protocol error: too many headers) is a STREAM_CLOSED error.
      streamError = Http2Error.STREAM_CLOSED;
    }
    if (streamError != null) {
      // An HTTP/2 stream error (the multiplexer hands the child the codec's StreamException): reset
      // the stream with the error's own code; the multiplexer's forced close would say CANCEL, or
      // nothing once the request had ended.
      log.debug("{}: HTTP/2 stream error: {}", clientIp, cause.toString());
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(streamError)).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    log.debug("{}: client connection error: {}", clientIp, cause.toString());
    ctx.close();
  }

  // ---- request side ------------------------------------------------------------------------

  /** Handles queued client messages as far as the current request's state allows. */
  private void drainInbound() {
    while (!closing && !inbound.isEmpty()) {
      Object msg = inbound.peek();
      if (msg instanceof HttpRequest) {
        if (exchange != null || settling) {
          return;
        }
        inbound.poll();
        if (msg instanceof FullHttpRequest full) {
          // An HTTP/2 request whose HEADERS ended the stream (or a request the decoder refused):
          // the head starts the exchange and its end follows as the body, so it completes like any.
          HttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(),
              full.headers());
          head.setDecoderResult(full.decoderResult());
          inbound.addFirst(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
          startRequest(head);
        } else {
          startRequest((HttpRequest) msg);
        }
      } else if (msg instanceof HttpContent) {
        Exchange ex = exchange;
        if (ex != null && !ex.local && ex.upstream == null) {
          return;
        }
        inbound.poll();
        if (ex == null || ex.local) {
          discardBody(ex, (HttpContent) msg);
        } else {
          forwardBody(ex, (HttpContent) msg);
        }
      } else {
        inbound.poll();
        ReferenceCountUtil.release(msg);
      }
    }
  }

  private void startRequest(HttpRequest request) {
    context.metrics.requestStarted();
    selection.reset();
    Exchange ex = new Exchange(request, selection);
    ex.clientAddress = clientAddress;
    ex.http2 = http2Stream;
    exchange = ex;
    if (request.decoderResult().isFailure()) {
      rejectMalformed(ex, request.decoderResult().cause());
      return;
    }
    RequestAdmission.Verdict verdict = RequestAdmission.admit(ex, context, clientIp);
    if (verdict != null) {
      respondLocally(ex, verdict.status(), verdict.message());
      return;
    }
    // Admission checked the framing: a Content-Length here is a valid number.
    ex.declaredLength = ex.http2 ? HttpUtil.getContentLength(request, -1L) : -1L;
    ex.route.retryBudget().requestStarted();
    connectUpstream(ex);
  }

  private void rejectMalformed(Exchange ex, Throwable cause) {
    HttpResponseStatus status = RequestAdmission.statusForDecoderFailure(cause);
    log.info("{}: rejected request: {} ({})", clientIp, status, cause.getMessage());
    ex.bodiless = false;
    respondLocally(ex, status, RequestAdmission.describe(status, cause));
  }

  private void connectUpstream(Exchange ex) {
    Backend backend = ex.group.selectorFor(ex.selection.isWrite()).select(ex.selection);
    if (backend == null && ex.residencyClass != null && ex.attempts == 0) {
      log.warn("{} {}: route {}: no healthy backend for residency class '{}'", ex.requestId, clientIp,
          ex.route.name(), ex.residencyClass);
      respondLocally(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, "no healthy backend in the regions allowed"
          + " for residency class '" + ex.residencyClass + "' " + ex.route.residency().regionsOf(ex.residencyClass)
          + "; the request was not sent elsewhere");
      return;
    }
    if (backend == null) {
      boolean none = ex.attempts == 0;
      log.warn("{} {}: route {}: {}", ex.requestId, clientIp, ex.route.name(),
          none ? "no available backend" : "no backend left to try");
      respondLocally(ex, none || ex.lastAttemptBusy ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.BAD_GATEWAY,
          none
              ? "no available backend in group '" + ex.route.group().name() + "'; try again later"
              : "could not reach a backend of group '" + ex.route.group().name() + "' (last: "
                  + ex.lastFailure + ")");
      return;
    }
    if (ex.attempts > 0 && ex.selection.wantsExplanation() && ex.selection.decision() != null) {
      ex.selection.decision("retry " + ex.attempts + " (" + ex.lastFailure + "); " + ex.selection.decision());
    }
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
    UpstreamPool pool = context.pools.forLoop(ctx.channel().eventLoop());
    boolean fresh = ex.freshConnection;
    ex.freshConnection = false;
    pool.acquire(backend, this, fresh).addListener(f -> onUpstreamAcquired(ex, backend, (Future<Channel>) f));
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
    ctx.executor().schedule(() -> {
      if (exchange == ex && !closing && ex.backend == backend && ex.upstream == null) {
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
    if (ex.route.retries().retriesStatus(status) && ex.isIdempotent() && mayRetry(ex, true)) {
      ex.lastFailure = "backend " + backend.id() + " answered " + status + " (injected)";
      ex.selection.exclude(backend);
      connectUpstream(ex);
      return;
    }
    ex.injectedAbort = true;
    respondLocally(ex, HttpResponseStatus.valueOf(status), "fault injected by a failover drill: region "
        + backend.region() + " answered " + status);
  }

  private void onUpstreamAcquired(Exchange ex, Backend backend, Future<Channel> future) {
    if (exchange != ex || closing) {
      if (future.isSuccess()) {
        BackendHandler.of(future.getNow()).detach();
        future.getNow().close();
      }
      return;
    }
    if (!future.isSuccess() && future.cause() instanceof StreamUnavailableException busy) {
      // The backend is busy, not failing: no outlier report; a retry spends the budget like any.
      context.metrics.upstreamFailed(backend.id(), "no-stream");
      log.warn("{} {}: {}", ex.requestId, clientIp, busy.getMessage());
      ex.lastFailure = "backend " + backend.id() + " has no free HTTP/2 stream";
      ex.lastAttemptBusy = true;
      ex.endInFlight();
      ex.selection.exclude(backend);
      if (mayRetry(ex, ex.route.retries().retriesOn("connect-failure"))) {
        connectUpstream(ex);
      } else {
        respondLocally(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, ex.lastFailure + "; try again later");
      }
      return;
    }
    if (!future.isSuccess()) {
      Throwable cause = future.cause();
      boolean refused = cause instanceof ConnectException && !(cause instanceof ConnectTimeoutException);
      context.metrics.upstreamFailed(backend.id(), refused ? "connect-refused" : "connect");
      ex.group.outliers().onConnectFailure(backend, refused);
      log.warn("{} {}: connect to backend {} failed: {}", ex.requestId, clientIp, backend, cause.toString());
      ex.connectFailures++;
      retryAfterConnectFailure(ex, "could not connect to backend " + backend.id());
      return;
    }
    Channel upstream = future.getNow();
    ex.upstream = upstream;
    ex.inFlightTo = ex.group.stats().of(backend);
    if (ex.inFlightTo != null) {
      ex.inFlightTo.requestStarted();
    }
    ex.sentNanos = System.nanoTime();
    if (!ex.headersRewritten) {
      context.requestRewriter.rewrite(ex.request, clientIp, scheme, backend.authority(),
          ex.route.rewriteHost(), ex.upgrade);
      ex.headersRewritten = true;
    } else if (ex.route.rewriteHost()) {
      ex.request.headers().set(HttpHeaderNames.HOST, backend.authority());
    }
    // A failed write closes the upstream channel, which onUpstreamClosed handles.
    ex.headWritten = false;
    upstream.write(ex.request).addListener(onHeadWritten);
    upstreamNeedsFlush = true;
    replayBody(ex);
    drainInbound();
    flushUpstream();
    upstream.read();
    maybeReadClient();
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
    if (mayRetry(ex, ex.route.retries().retriesOn(condition))) {
      avoidRefusingBackends(ex);
      connectUpstream(ex);
    } else {
      respondLocally(ex, HttpResponseStatus.BAD_GATEWAY, reason);
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
    int connectTries = Math.max(context.settings.upstream().connectAttempts(), ex.route.retries().attempts() + 1);
    if (ex.route.retries().retriesOn("connect-failure") && ex.connectFailures < connectTries
        && ex.isReplayable() && !closing) {
      avoidRefusingBackends(ex);
      connectUpstream(ex);
    } else {
      respondLocally(ex, HttpResponseStatus.BAD_GATEWAY, reason);
    }
  }

  /** A retry does not go to a backend of the group that refused a connection within the ejection window. */
  private static void avoidRefusingBackends(Exchange ex) {
    OutlierDetector outliers = ex.group.outliers();
    ex.selection.avoid(outliers::recentlyRefused);
  }

  /**
   * Whether a request that reached a backend may be retried: the condition is retried, attempts remain
   * (connect failures do not count), the request can be sent again, and the route's budget allows it.
   */
  private boolean mayRetry(Exchange ex, boolean conditionRetried) {
    boolean allowed = conditionRetried && ex.attempts - ex.connectFailures <= ex.route.retries().attempts()
        && ex.isReplayable() && !closing;
    if (allowed && !ex.route.retryBudget().tryRetry()) {
      log.warn("{} {}: route {}: retry budget spent; not retrying", ex.requestId, clientIp, ex.route.name());
      return false;
    }
    return allowed;
  }

  /** On a retry, sends the kept body parts again (the rest still waits in the inbound queue). */
  private void replayBody(Exchange ex) {
    if ((ex.replay == null || ex.replay.isEmpty()) && !ex.replayEndsEmpty) {
      ex.requestComplete = false;
      return;
    }
    // Each kept part holds one reference: forwarding it hands that reference to the write, and
    // forwardBody keeps a fresh duplicate for a further retry.
    List<HttpContent> parts = ex.replay;
    boolean endsEmpty = ex.replayEndsEmpty;
    ex.replay = null;
    ex.replayEndsEmpty = false;
    ex.replayBytes = 0;
    ex.requestComplete = false;
    ex.bodyBytesForwarded = 0;
    // A part held back is newer than every kept one: it follows them.
    HttpContent held = ex.heldBack;
    ex.heldBack = null;
    if (parts != null) {
      for (HttpContent part : parts) {
        forwardBody(ex, part);
      }
    }
    if (held != null) {
      forwardBody(ex, held);
    }
    if (endsEmpty) {
      forwardBody(ex, LastHttpContent.EMPTY_LAST_CONTENT);
    }
  }

  /**
   * Forwards a body part. On HTTP/2, the part that completes the Content-Length waits for the
   * client's END_STREAM: if more DATA or no END_STREAM follows, the codec resets the stream and the
   * backend never saw the request complete.
   */
  private void forwardBody(Exchange ex, HttpContent content) {
    if (ex.http2 && ex.declaredLength >= 0 && !(content instanceof LastHttpContent)
        && !content.decoderResult().isFailure()
        && ex.bodyBytesForwarded + content.content().readableBytes() >= ex.declaredLength) {
      HttpContent earlier = ex.heldBack;
      ex.heldBack = content;
      if (earlier != null) {
        sendBody(ex, earlier);
      }
      return;
    }
    if (ex.heldBack != null) {
      HttpContent held = ex.heldBack;
      ex.heldBack = null;
      sendBody(ex, held);
    }
    sendBody(ex, content);
  }

  private void sendBody(Exchange ex, HttpContent content) {
    if (content.decoderResult().isFailure()) {
      rejectMalformedBody(ex, content);
      return;
    }
    ex.bodyBytesForwarded += content.content().readableBytes();
    ex.keepForReplay(content, ex.route.retries().maxReplayBody());
    boolean last = content instanceof LastHttpContent;
    if (last) {
      ex.requestComplete = true;
      ex.trailersForwarded = !((LastHttpContent) content).trailingHeaders().isEmpty();
      startResponseTimer(ex);
    }
    // A failed write reaches BackendHandler.exceptionCaught, which closes and reports it.
    ex.upstream.write(content, ex.upstream.voidPromise());
    upstreamNeedsFlush = true;
  }

  /**
   * A body that cannot be decoded (bad chunk size, bad trailer): the backend must never see the
   * request complete, so its connection is closed mid-request and the client gets 400.
   */
  private void rejectMalformedBody(Exchange ex, HttpContent content) {
    Throwable cause = content.decoderResult().cause();
    content.release();
    log.info("{} {}: malformed request body, aborting the request: {}", ex.requestId, clientIp,
        cause.toString());
    abandonUpstream(ex);
    ex.clientKeepAlive = false;
    ex.bodiless = false;
    failResponse(ex, HttpResponseStatus.BAD_REQUEST, "malformed request body");
  }

  private void discardBody(Exchange ex, HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    content.release();
    if (ex != null && last) {
      ex.requestComplete = true;
      if (ex.responseComplete) {
        finishExchange(ex);
      }
    }
  }

  private void flushUpstream() {
    Exchange ex = exchange;
    if (upstreamNeedsFlush && ex != null && ex.upstream != null) {
      upstreamNeedsFlush = false;
      ex.upstream.flush();
    }
  }

  /** Asks the client for more bytes when the current state can take them. */
  private void maybeReadClient() {
    if (closing || inputClosed || !inbound.isEmpty()) {
      return;
    }
    Exchange ex = exchange;
    if (ex == null) {
      if (!settling) {
        ctx.read();
      }
    } else if (ex.local) {
      if (!ex.requestComplete && ex.bodiless) {
        ctx.read();
      }
    } else if (!ex.requestComplete && ex.upstream != null && ex.upstream.isWritable()) {
      ctx.read();
    }
  }

  @Override
  public void onUpstreamIdle() {
    Exchange ex = exchange;
    if (ex == null || !ex.responseStarted || ex.responseComplete) {
      return;
    }
    log.warn("{} {}: backend {} sent nothing for {} mid-response; cutting the client's response off",
        ex.requestId, clientIp, ex.backend, context.settings.timeouts().upstreamIdle());
    context.metrics.upstreamFailed(ex.backend.id(), "timeout");
    abandonUpstream(ex);
    ctx.close();
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    if (writable) {
      maybeReadClient();
    }
  }

  // ---- response side -----------------------------------------------------------------------

  @Override
  public void onUpstreamMessage(Object msg) {
    Exchange ex = exchange;
    if (ex == null || ex.upstream == null) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse response) {
      onResponseHead(ex, response);
    } else if (msg instanceof HttpContent content) {
      onResponseContent(ex, content);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onResponseHead(Exchange ex, HttpResponse response) {
    if (response.decoderResult().isFailure()) {
      ReferenceCountUtil.release(response);
      context.metrics.upstreamFailed(ex.backend.id(), "protocol");
      log.warn("{} {}: backend {} sent a malformed response: {}", ex.requestId, clientIp, ex.backend,
          response.decoderResult().cause().toString());
      abandonUpstream(ex);
      failResponse(ex, HttpResponseStatus.BAD_GATEWAY, "backend " + ex.backend.id() + " sent a malformed response");
      return;
    }
    HttpResponseStatus status = response.status();
    if (status.code() != 101 && status.codeClass() == HttpStatusClass.INFORMATIONAL) {
      // An interim response is no answer yet: the response-headers timer keeps running. From an
      // HTTP/1.1 backend its empty end follows; from an HTTP/2 one it came whole.
      ex.inInterim = !(response instanceof FullHttpResponse);
      ReferenceCountUtil.release(response);
      if (!ex.clientVersion.equals(HttpVersion.HTTP_1_0)) {
        // A full (bodiless) message, so the encoder knows the interim response ended.
        ctx.writeAndFlush(new DefaultFullHttpResponse(ex.clientVersion, status))
            .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
      }
      return;
    }
    ex.cancelResponseTimer();
    if (status.codeClass() == HttpStatusClass.INFORMATIONAL) {
      onSwitchingProtocols(ex, response);
      return;
    }
    long rtt = System.nanoTime() - ex.sentNanos + ex.injectedDelayNanos;
    context.metrics.upstreamResponded(ex.backend.id(), rtt);
    ex.group.outliers().onResponse(ex.backend, status.code());
    if (ex.route.retries().retriesStatus(status.code()) && ex.requestComplete && ex.isIdempotent()
        && mayRetry(ex, true)) {
      log.info("{} {}: backend {} answered {}; retrying elsewhere", ex.requestId, clientIp, ex.backend,
          status.code());
      ReferenceCountUtil.release(response);
      ex.lastFailure = "backend " + ex.backend.id() + " answered " + status.code();
      if (ex.inFlightTo != null) {
        ex.inFlightTo.observe(rtt);
      }
      abandonUpstream(ex);
      ex.selection.exclude(ex.backend);
      ex.retryingAfterStatus = true;
      connectUpstream(ex);
      return;
    }
    if (ex.inFlightTo != null) {
      ex.inFlightTo.observe(rtt);
    }
    ex.responseStarted = true;
    ex.status = status.code();
    // A 204 must not announce a body (RFC 9110 section 8.6); one that does may have sent it anyway,
    // and bytes arriving after the pool reused the connection would answer the next request.
    String announced = response.headers().get(HttpHeaderNames.CONTENT_LENGTH);
    boolean bodyOn204 = status.code() == 204 && (announced != null && !"0".equals(announced.trim())
        || response.headers().contains(HttpHeaderNames.TRANSFER_ENCODING));
    ex.backendKeepAlive = HttpUtil.isKeepAlive(response) && !bodyOn204;
    boolean keepAlive = ex.clientKeepAlive && !context.isDraining();
    boolean closeDelimited = context.responseRewriter.rewrite(response, ex.clientVersion, ex.requestId,
        keepAlive, false);
    ex.closeAfter = !keepAlive || closeDelimited;
    addSteeringHeaders(ex, response);
    if (response instanceof FullHttpResponse full) {
      // An HTTP/2 response that ended with its HEADERS (a gRPC trailers-only answer, a 204): it goes
      // on whole, so an HTTP/2 client also sees one HEADERS frame that ends the stream.
      ex.responseBytes += full.content().readableBytes();
      ex.responseComplete = true;
      ctx.writeAndFlush(full);
      finishExchange(ex);
      return;
    }
    ctx.write(response, ctx.voidPromise());
  }

  private void onResponseContent(Exchange ex, HttpContent content) {
    if (ex.inInterim) {
      // The empty end of a 1xx response: the final response follows on the same connection.
      ex.inInterim = false;
      content.release();
      return;
    }
    if (!ex.responseStarted) {
      content.release();
      return;
    }
    if (content.decoderResult().isFailure()) {
      // A body that broke its framing (a bad chunk size, say): the client must see the response cut
      // off, never a complete-looking one that lost bytes.
      log.warn("{} {}: backend {} sent a malformed response body after {} bytes: {}; cutting the client's"
          + " response off", ex.requestId, clientIp, ex.backend, ex.responseBytes, content.decoderResult().cause().toString());
      content.release();
      context.metrics.upstreamFailed(ex.backend.id(), "protocol");
      abandonUpstream(ex);
      ctx.flush();
      ctx.close();
      return;
    }
    ex.responseBytes += content.content().readableBytes();
    if (content instanceof LastHttpContent last) {
      ex.responseComplete = true;
      if (ex.clientVersion.equals(HttpVersion.HTTP_1_0) && !last.trailingHeaders().isEmpty()) {
        last.release();
        ctx.write(LastHttpContent.EMPTY_LAST_CONTENT);
      } else {
        ctx.write(last);
      }
      ctx.flush();
      finishExchange(ex);
    } else {
      ctx.write(content, ctx.voidPromise());
    }
  }

  @Override
  public void onUpstreamReadComplete() {
    Exchange ex = exchange;
    if (ex == null || ex.upstream == null) {
      return;
    }
    ctx.flush();
    if (!ex.responseComplete && ctx.channel().isWritable()) {
      ex.upstream.read();
    }
  }

  private void onSwitchingProtocols(Exchange ex, HttpResponse response) {
    if (ex.upgrade == null) {
      log.warn("{} {}: backend {} switched protocols without being asked", ex.requestId, clientIp, ex.backend);
      abandonUpstream(ex);
      failResponse(ex, HttpResponseStatus.BAD_GATEWAY, "backend switched protocols unasked");
      return;
    }
    ex.responseStarted = true;
    ex.responseComplete = true;
    ex.status = 101;
    ex.endInFlight();
    ex.releaseReplay();
    context.responseRewriter.rewrite(response, ex.clientVersion, ex.requestId, true, true);
    ctx.writeAndFlush(response);
    Channel upstream = ex.upstream;
    BackendHandler.of(upstream).detach();
    exchange = null;
    context.metrics.requestFinished(routeName(ex), 101);
    recordRegionOutcome(ex, false);
    cancelHeadTimer();
    releaseInbound();
    TunnelHandler.splice(ctx.channel(), upstream);
  }

  @Override
  public void onUpstreamClosed(Throwable cause) {
    Exchange ex = exchange;
    if (ex == null || ex.upstream == null) {
      return;
    }
    ex.cancelResponseTimer();
    Backend backend = ex.backend;
    boolean reused = BackendHandler.of(ex.upstream) != null && BackendHandler.of(ex.upstream).isReused();
    ex.upstream = null;
    if (ex.responseComplete) {
      return;
    }
    ex.endInFlight();
    if (cause instanceof UnprocessedRequestException && !ex.responseStarted && ex.isReplayable()
        && ex.unprocessedResends < MAX_UNPROCESSED_RESENDS) {
      // The backend said it never processed the request (HTTP/2 GOAWAY or REFUSED_STREAM): sending
      // it again is safe for any method, and spends no retry attempt.
      log.debug("{} {}: {}; sending the request again", ex.requestId, clientIp, cause.getMessage());
      ex.unprocessedResends++;
      ex.attempts--;
      connectUpstream(ex);
      return;
    }
    if (reused && !ex.responseStarted && !ex.staleRetried && ex.isIdempotent() && ex.isReplayable()) {
      // A pooled connection the backend closed as we reused it (its keep-alive timeout raced ours):
      // not the backend's fault; send the request again once, on a new connection.
      log.debug("{} {}: pooled connection to {} was closed by the backend; reconnecting", ex.requestId,
          clientIp, backend);
      ex.staleRetried = true;
      ex.freshConnection = true;
      ex.attempts--; // a reconnect, not a retry: it spends no attempt
      connectUpstream(ex);
      return;
    }
    String why = cause == null ? "closed the connection" : "failed: " + cause;
    context.metrics.upstreamFailed(backend.id(), "reset");
    ex.group.outliers().onGatewayFailure(backend, "reset");
    if (ex.responseStarted) {
      log.warn("{} {}: backend {} {} mid-response after {} bytes; cutting the client's response off",
          ex.requestId, clientIp, backend, why, ex.responseBytes);
      ctx.flush();
      ctx.close();
      return;
    }
    log.warn("{} {}: backend {} {} before responding", ex.requestId, clientIp, backend, why);
    // Never written (the head's write failed, e.g. a pooled connection the backend had closed): any
    // method may go elsewhere. Written: only idempotent ones; a POST whose bytes reached a backend is
    // never sent twice.
    String reason = "backend " + backend.id() + " closed the connection before responding";
    if (!ex.headWritten || ex.isIdempotent()) {
      retryOrFail(ex, "reset-before-response", reason);
    } else {
      ex.endInFlight();
      failResponse(ex, HttpResponseStatus.BAD_GATEWAY, reason);
    }
  }

  /**
   * Gives the backend {@code timeouts.response-headers} from now to answer. One timer per connection
   * serves every request on it: it is armed when none is, and when it fires it either times the
   * current request out or waits again until that request's own deadline (no task per request).
   */
  private void startResponseTimer(Exchange ex) {
    // An injected delay stands for the backend's own slowness: it counts toward the timeout.
    long timeout = context.settings.timeouts().responseHeaders().toNanos() - ex.injectedDelayNanos;
    ex.responseDeadlineNanos = System.nanoTime() + timeout;
    if (responseTimer == null) {
      responseTimer = ctx.executor().schedule(onResponseTimer, Math.max(0, timeout), TimeUnit.NANOSECONDS);
    }
  }

  private void onResponseTimer() {
    responseTimer = null;
    Exchange ex = exchange;
    if (closing || ex == null || ex.responseDeadlineNanos == 0 || ex.responseStarted) {
      return;
    }
    long left = ex.responseDeadlineNanos - System.nanoTime();
    if (left > 0) {
      responseTimer = ctx.executor().schedule(onResponseTimer, left, TimeUnit.NANOSECONDS);
      return;
    }
    ex.responseDeadlineNanos = 0;
    log.warn("{} {}: backend {} sent no response headers within {} ms", ex.requestId, clientIp,
        ex.backend, context.settings.timeouts().responseHeaders().toMillis());
    context.metrics.upstreamFailed(ex.backend.id(), "timeout");
    ex.group.outliers().onGatewayFailure(ex.backend, "timeout");
    abandonUpstream(ex);
    failResponse(ex, HttpResponseStatus.GATEWAY_TIMEOUT, "backend " + ex.backend.id() + " did not answer in time");
  }

  /** Closes the exchange's upstream connection without reporting the close back to it. */
  private void abandonUpstream(Exchange ex) {
    ex.cancelResponseTimer();
    ex.endInFlight();
    Channel upstream = ex.upstream;
    ex.upstream = null;
    if (upstream != null) {
      BackendHandler.of(upstream).detach();
      upstream.close();
    }
  }

  /** Ends a request that reached a backend with a local error, or cuts the response off. */
  private void failResponse(Exchange ex, HttpResponseStatus status, String message) {
    if (ex.responseStarted) {
      ctx.close();
    } else {
      respondLocally(ex, status, message);
    }
  }

  // ---- completion --------------------------------------------------------------------------

  /** Writes a response Meridian makes itself; the connection stays open only if nothing is left unread. */
  private void respondLocally(Exchange ex, HttpResponseStatus status, String message) {
    abandonUpstream(ex);
    ex.local = true;
    ex.responseStarted = true;
    ex.responseComplete = true;
    ex.status = status.code();
    boolean keepAlive = ex.clientKeepAlive && !context.isDraining() && (ex.requestComplete || ex.bodiless);
    FullHttpResponse response = LocalResponses.create(ctx.alloc(), status, message, responseVersion(ex),
        keepAlive, context.requestRewriter.requestIdHeader(), ex.requestId);
    ex.closeAfter = !keepAlive;
    if (context.settings.debugHeaders() && ex.selection.decision() != null) {
      response.headers().set(DECISION_HEADER, ex.selection.decision());
    }
    ctx.writeAndFlush(response);
    if (ex.closeAfter || ex.requestComplete) {
      finishExchange(ex);
      return;
    }
    // Otherwise the (empty) rest of the request is discarded, then finishExchange runs. It may
    // already wait in the inbound queue (a connect failure answered from a pool callback): nothing
    // else would look at it, and the client's next request would never be read.
    drainInbound();
    maybeReadClient();
  }

  /** Debug headers (which backend, why) and the read-your-writes cookie after a write. */
  private void addSteeringHeaders(Exchange ex, HttpResponse response) {
    if (context.settings.debugHeaders()) {
      response.headers().set(BACKEND_HEADER, ex.backend.id());
      String decision = ex.selection.decision();
      if (decision != null) {
        response.headers().set(DECISION_HEADER, decision);
      }
    }
    GroupRuntime group = ex.group;
    if (ex.selection.isWrite() && group.readYourWritesMillis() > 0 && group.writer().isPresent()) {
      long window = group.readYourWritesMillis();
      String value = context.readYourWrites.issue(System.currentTimeMillis() + window);
      response.headers().add(HttpHeaderNames.SET_COOKIE, ReadYourWritesCookie.NAME + "=" + value
          + "; Max-Age=" + Math.max(1, window / 1000) + "; Path=/; HttpOnly; SameSite=Lax");
    }
  }

  private static HttpVersion responseVersion(Exchange ex) {
    return ex.clientVersion.equals(HttpVersion.HTTP_1_0) ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
  }

  /** Ends the exchange: the upstream connection goes back to the pool or closes; the next request runs. */
  private void finishExchange(Exchange ex) {
    ex.endInFlight();
    ex.releaseReplay();
    Channel upstream = ex.upstream;
    ex.upstream = null;
    ex.cancelResponseTimer();
    boolean reuse = upstream != null && ex.requestComplete && ex.backendKeepAlive;
    if (upstream != null) {
      // Detach now: any byte the backend sent after the response's end (a body on a 204 or HEAD
      // response, say) arrives while no request owns the connection, and so closes it.
      BackendHandler.of(upstream).detach();
      if (!reuse) {
        upstream.close();
      }
    }
    context.metrics.requestFinished(routeName(ex), ex.status);
    recordRegionOutcome(ex, false);
    exchange = null;
    if (ex.closeAfter || !ex.requestComplete || context.isDraining() || inputClosed && inbound.isEmpty()) {
      closing = true;
      releaseInbound();
      if (reuse) {
        upstream.eventLoop().execute(() -> context.pools.forLoop(upstream.eventLoop()).release(upstream));
      }
      closeAfterWrites();
      return;
    }
    // The pool gets the connection back, and the next pipelined request starts, only after the
    // backend's current read is fully decoded: a connection must not serve the next request while
    // bytes of the previous response may still be in its decoder.
    settling = true;
    ctx.executor().execute(() -> {
      settling = false;
      if (reuse) {
        context.pools.forLoop(upstream.eventLoop()).release(upstream);
      }
      if (closing || exchange != null) {
        return;
      }
      if (headTimer == null) {
        startHeadTimer();
      }
      drainInbound();
      flushUpstream();
      maybeReadClient();
    });
  }

  /** Closes once what was written is flushed; an HTTP/2 stream closes (or resets) its stream only. */
  private void closeAfterWrites() {
    if (http2Stream) {
      ctx.flush();
      ctx.close();
    } else {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Counts the finished request in its group's region (for the admin API and drills). */
  private static void recordRegionOutcome(Exchange ex, boolean cutOff) {
    if (ex.group != null) {
      RegionCounters counters = ex.regionCounters != null ? ex.regionCounters : ex.group.traffic().of(null);
      counters.record(ex.status, ex.local && !ex.injectedAbort, cutOff, System.nanoTime() - ex.startNanos);
    }
  }

  private static String routeName(Exchange ex) {
    return ex.route == null ? "none" : ex.route.name();
  }

  // ---- request head timeout (slowloris) ----------------------------------------------------

  private void startHeadTimer() {
    long timeout = context.settings.limits().requestHeadTimeout().toNanos();
    headTimer = ctx.executor().schedule(this::onHeadTimeout, timeout, TimeUnit.NANOSECONDS);
  }

  private void cancelHeadTimer() {
    if (headTimer != null) {
      headTimer.cancel(false);
      headTimer = null;
    }
  }

  private void onHeadTimeout() {
    headTimer = null;
    if (closing) {
      return;
    }
    long timeout = context.settings.limits().requestHeadTimeout().toNanos();
    if (exchange != null) {
      // One timer per connection, re-armed while requests are served (cheaper than one per request).
      headTimer = ctx.executor().schedule(this::onHeadTimeout, timeout, TimeUnit.NANOSECONDS);
      return;
    }
    long since = codec == null ? 0 : codec.partialHeadSinceNanos();
    long waited = since == 0 ? 0 : System.nanoTime() - since;
    if (since == 0 || waited < timeout) {
      // No head begun yet (idle keep-alive is the idle timeout's business), or it began recently:
      // check again when its own deadline passes.
      headTimer = ctx.executor().schedule(this::onHeadTimeout, since == 0 ? timeout : timeout - waited,
          TimeUnit.NANOSECONDS);
      return;
    }
    if (codec != null && codec.hasPartialHead()) {
      log.info("{}: request head not complete within {}; 408", clientIp,
          context.settings.limits().requestHeadTimeout());
      closing = true;
      FullHttpResponse response = LocalResponses.create(ctx.alloc(), HttpResponseStatus.REQUEST_TIMEOUT,
          "the request head did not arrive in time", HttpVersion.HTTP_1_1, false,
          context.requestRewriter.requestIdHeader(), null);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private void releaseInbound() {
    Object msg;
    while ((msg = inbound.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }

  /** Sent through every client pipeline when shutdown starts. */
  enum DrainEvent {
    INSTANCE
  }
}
