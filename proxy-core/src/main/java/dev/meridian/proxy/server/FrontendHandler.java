package dev.meridian.proxy.server;

import dev.meridian.balancer.SelectionContext;
import dev.meridian.proxy.http.ForwardingHeaders;
import dev.meridian.proxy.http.RequestHeadRewriter;
import dev.meridian.proxy.http1.ServerHttpCodec;
import dev.meridian.proxy.upstream.BackendHandler;
import dev.meridian.proxy.upstream.ClientConnection;
import dev.meridian.proxy.upstream.UpstreamListener;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one client connection (or one HTTP/2 stream): it sequences the connection's exchanges, one
 * request at a time and in order (pipelined requests wait their turn), and hands each step of a
 * request to its phase (see the package documentation for the whole path):
 * {@link RequestAdmission} (validate, route), {@link UpstreamAttempts} (backend, connection, retries),
 * {@link RequestBodyRelay} (request body), {@link ResponseRelay} (response back) and
 * {@link ExchangeCompletion} (local answers, connection reuse).
 *
 * <p>Back-pressure: both channels run with auto-read off. The client is read only while the current
 * request's body can be written upstream (writable), the backend only while the client is writable.
 * Memory per connection is bounded by the write watermarks plus one read.
 *
 * <p>The phases share this connection's state through its package-private fields. Thread safety:
 * everything runs on the client channel's event loop, which also owns the upstream connection.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter
    implements UpstreamListener, Http2StreamCodec.Receiver {
  /** The handler's name in the client pipeline. */
  static final String NAME = "frontend";
  private static final Logger log = LoggerFactory.getLogger(FrontendHandler.class);

  final ProxyContext context;
  final String scheme;
  /** The selection state of the current exchange; one per connection, reset for each request. */
  final SelectionContext selection = new SelectionContext();
  final UpstreamAttempts attempts;
  final RequestBodyRelay requestBody;
  final ResponseRelay response;
  final ExchangeCompletion completion;
  /** The edge cache phase of requests on routes with a cache. */
  final EdgeCachePhase cache;
  final RequestHeadTimer headTimer;
  /** The client's messages waiting their turn, and when to read more. */
  final ClientInbound inbound = new ClientInbound(this);
  /** The connection's last Forwarded element (an HTTP/2 connection's streams share it). */
  final RequestHeadRewriter.ForwardedMemo forwardedMemo;
  /** The meters this connection recorded on last (an HTTP/2 connection's streams share them). */
  final MeterMemo meters;
  private final ConnectionMemo connectionMemo;
  /** On an HTTP/2 stream, what translates its frames to and from HTTP/1.1 messages; null on HTTP/1. */
  private final Http2StreamCodec streamCodec;
  ChannelHandlerContext ctx;
  /** The request being served, or null between requests. */
  Exchange exchange;
  /** The connection is closing: nothing more is read or started. */
  boolean closing;
  /** Something was written upstream since the last flush. */
  boolean upstreamNeedsFlush;
  /** The client half-closed: what it sent is answered, then the connection closes. */
  boolean inputClosed;
  /** This handler serves one HTTP/2 stream (a child channel) rather than an HTTP/1 connection. */
  boolean http2Stream;
  /** An exchange just finished; its upstream connection goes back to the pool in a moment. */
  boolean settling;
  String clientIp;
  /** The connection is asked to close once the requests it has sent are answered (its listener drains). */
  private boolean drainRequested;
  /**
   * The drain's grace is over: the connection closes as soon as it is between requests. Until then a
   * drained connection is kept between requests, even after a response that left without
   * {@code Connection: close}, so a request its client sends meanwhile is answered.
   */
  boolean graceOver;
  /** This handler counted its HTTP/1 connection in the open-connections gauge. */
  private boolean countedConnection;
  /** On an HTTP/2 stream: the client ended its request (END_STREAM arrived). */
  private boolean requestEnded;
  private InetAddress clientAddress;
  /** Hedged requests of this connection, made when a request on a hedged route first needs it. */
  private Hedging hedging;

  /**
   * Creates the handler of an HTTP/1 connection, whose pipeline decodes and encodes its messages with
   * {@code codec}.
   *
   * @param memo what the connection's requests share (its own)
   */
  FrontendHandler(ProxyContext context, ServerHttpCodec codec, String scheme, ConnectionMemo memo) {
    this(context, codec, null, scheme, memo);
  }

  /**
   * Creates the handler of an HTTP/2 stream, which translates the stream's frames itself with
   * {@code streamCodec}.
   *
   * @param memo what the requests of the stream's connection share
   */
  static FrontendHandler forStream(ProxyContext context, Http2StreamCodec streamCodec, String scheme,
      ConnectionMemo memo) {
    return new FrontendHandler(context, null, streamCodec, scheme, memo);
  }

  private FrontendHandler(ProxyContext context, ServerHttpCodec codec, Http2StreamCodec streamCodec, String scheme,
      ConnectionMemo memo) {
    this.context = context;
    this.streamCodec = streamCodec;
    this.scheme = scheme;
    this.attempts = new UpstreamAttempts(this);
    this.requestBody = new RequestBodyRelay(this);
    this.response = new ResponseRelay(this);
    this.completion = new ExchangeCompletion(this);
    this.cache = new EdgeCachePhase(this);
    this.headTimer = new RequestHeadTimer(this, codec);
    this.connectionMemo = memo;
    this.meters = memo.meters;
    this.forwardedMemo = memo.forwarded;
  }

  /** The hedging of this connection's requests (routes with {@code hedge}). */
  Hedging hedging() {
    if (hedging == null) {
      hedging = new Hedging(this);
    }
    return hedging;
  }

  /** The client connection's TLS version, or null for cleartext. */
  String tlsVersion() {
    return connectionMemo.tlsVersion();
  }

  /** The server name the client asked for in TLS, or null. */
  String serverName() {
    return connectionMemo.serverName();
  }

  /** The client connection as upstream connections that send the PROXY protocol name it. */
  ClientConnection upstreamClient() {
    return connectionMemo.upstreamClient();
  }

  /** Whether the client's connection arrived over TLS. */
  boolean isTls() {
    return "https".equals(scheme);
  }

  // ---- client connection events ------------------------------------------------------------

  /**
   * Not sharable (one per connection or stream), answered without Netty's per-thread lookup of the
   * class's annotation, which showed under S4: one is added to each HTTP/2 stream's pipeline.
   */
  @Override
  public boolean isSharable() {
    return false;
  }

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

    connectionMemo.identify(http2Stream ? ctx.channel().parent() : ctx.channel());
    this.clientAddress = connectionMemo.clientAddress();
    this.clientIp = connectionMemo.clientIp();
    if (!http2Stream) {
      // A stream is not a connection: an HTTP/2 connection is counted once, by Http2Connection.
      context.metrics.clientConnectionOpened();
      countedConnection = true;
      headTimer.start();
    }
    ReadDemand.resume(ctx.channel());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Http2Exception {
    if (streamCodec != null) {
      streamCodec.read(msg, ctx.alloc(), this);
    } else {
      receive(msg);
    }
  }

  /** Takes a message from the client: a request head, a body part or the request's end. */
  @Override
  public void receive(Object msg) {
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof LastHttpContent) {
      requestEnded = true;
    }
    inbound.add(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    flushUpstream();
    inbound.maybeRead();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Exchange ex = exchange;
    if (ctx.channel().isWritable() && ex != null && ex.upstream != null && ex.responseStarted()
        && !ex.responseComplete()) {
      ReadDemand.resume(ex.upstream);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      ClientStalls.onIdle(this);
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
      drainRequested = true;
      // Between requests the connection stays open (and read) for the drain's grace: a request the
      // client already sent is answered with Connection: close rather than lost in a reset.
      if (exchange != null) {
        exchange.clientKeepAlive = false;
      } // else a request waits for the last one to settle: it is answered, then the connection closes
      return;
    }
    if (evt instanceof Http2ResetFrame) {
      // The client reset the stream (Netty's multiplexer tells the stream by this event); its closing follows.
      context.metrics.edge().http2ResetReceived();
    } else if (evt == DrainEvent.GRACE_OVER) {
      graceOver = true;
      if (exchange == null && inbound.isEmpty()) {
        ctx.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    headTimer.cancel();
    response.stopTimer();
    inbound.release();
    Exchange ex = exchange;
    exchange = null;
    if (ex != null) {
      EdgeCachePhase.finishLead(ex, null);
      if (ex.race != null) {
        hedging().cancel(ex);
      }
      ex.cancelResponseTimer();
      ex.endInFlight();
      ex.releaseReplay();
      if (ex.upstream != null) {
        BackendHandler.of(ex.upstream).detach();
        ex.upstream.close();
      }
      // Not finished (finishExchange clears exchange): counted here, whatever answered it.
      RequestEnd.record(this, ex, ex.status == 0 ? 499 : ex.status, ex.responseStarted() && !ex.responseComplete());
    }
    if (countedConnection) {
      context.metrics.clientConnectionClosed();
    }
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

  // ---- writing to the client ---------------------------------------------------------------

  /** Writes a message to the client (on an HTTP/2 stream, as the frames it becomes), unflushed, without a promise. */
  void write(Object msg) {
    if (streamCodec == null) {
      ctx.write(msg, ctx.voidPromise());
    } else {
      streamCodec.write(ctx, msg, ctx.voidPromise());
    }
  }

  /** Writes a message to the client (on an HTTP/2 stream, as the frames it becomes) and flushes. */
  ChannelFuture writeAndFlush(Object msg) {
    if (streamCodec == null) {
      return ctx.writeAndFlush(msg);
    }
    ChannelPromise promise = ctx.newPromise();
    streamCodec.write(ctx, msg, promise);
    ctx.flush();
    return promise;
  }

  // ---- sequencing the connection's exchanges -----------------------------------------------

  /** Phase 1: a request head arrived; admission validates and routes it, then a backend is chosen. */
  void startRequest(HttpRequest request) {
    context.metrics.requestStarted();
    selection.reset();
    ProxyContext.InForce now = context.inForce();
    Exchange ex = new Exchange(request, selection, now.policies());
    ex.clientAddress = clientAddress;
    ex.http2 = http2Stream;
    exchange = ex;
    if (request.decoderResult().isFailure()) {
      rejectMalformed(ex, request.decoderResult().cause());
      return;
    }
    if (!connectionMemo.peerTrusted()) {
      ForwardingHeaders.stripUntrusted(request.headers());
    }
    RequestAdmission.Verdict verdict = RequestAdmission.admit(ex, context, now.routing(), clientIp, connectionMemo);
    if (drainRequested) {
      ex.clientKeepAlive = false;
    }
    if (verdict != null) {
      completion.respondLocally(ex, verdict.status(), verdict.message(), verdict.retryAfterSeconds());
      return;
    }
    // Admission checked the framing: a Content-Length here is a valid number.
    ex.declaredLength = ex.http2 ? HttpUtil.getContentLength(request, -1L) : -1L;
    if (http2Stream && !ex.bodiless) {
      headTimer.start(); // an HTTP/2 upload is held to limits.min-request-body-rate too (a timer per upload only)
    }
    if (ex.route.cache() != null && cache.answer(ex)) {
      return;
    }
    forward(ex);
  }

  /** Phase 2 onwards: the request goes to a backend (the cache did not answer it). */
  void forward(Exchange ex) {
    ex.route.retryBudget().requestStarted();
    attempts.connectUpstream(ex);
  }

  private void rejectMalformed(Exchange ex, Throwable cause) {
    HttpResponseStatus status = RequestAdmission.statusForDecoderFailure(cause);
    log.info("{}: rejected request: {} ({})", clientIp, status, cause.getMessage());
    ex.bodiless = false;
    completion.respondLocally(ex, status, RequestAdmission.describe(status, cause));
  }

  /** Flushes what was written to the current exchange's upstream since the last flush. */
  void flushUpstream() {
    Exchange ex = exchange;
    if (upstreamNeedsFlush && ex != null && ex.upstream != null) {
      upstreamNeedsFlush = false;
      ex.upstream.flush();
    }
  }

  // ---- upstream events (this is the listener of the exchange's upstream connection) ---------

  @Override
  public void onUpstreamMessage(Object msg) {
    Exchange ex = exchange;
    if (ex == null || ex.upstream == null) {
      ReferenceCountUtil.release(msg);
      return;
    }
    response.onMessage(ex, msg);
  }

  @Override
  public void onUpstreamReadComplete() {
    Exchange ex = exchange;
    if (ex != null && ex.upstream != null) {
      response.onReadComplete(ex);
    }
  }

  @Override
  public void onUpstreamIdle() {
    Exchange ex = exchange;
    if (ex != null) {
      response.onUpstreamIdle(ex);
    }
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    if (writable) {
      inbound.maybeRead();
    }
  }

  @Override
  public void onUpstreamClosed(Throwable cause) {
    Exchange ex = exchange;
    if (ex != null && ex.upstream != null) {
      attempts.onUpstreamClosed(ex, cause);
    }
  }

  /** Sent through every client pipeline when shutdown drains the connections. */
  enum DrainEvent {
    /**
     * The drain started (the listeners are closed): requests in flight are answered with
     * Connection: close, HTTP/2 connections send GOAWAY.
     */
    INSTANCE,
    /**
     * {@link ClientDrain#GRACE} after {@link #INSTANCE}: connections still between requests, or
     * that never sent a byte, close.
     */
    GRACE_OVER
  }
}
