package dev.meridian.proxy.server;

import dev.meridian.balancer.SelectionContext;
import dev.meridian.proxy.http.LogText;
import dev.meridian.proxy.http.RequestHeadRewriter;
import dev.meridian.proxy.http1.ServerHttpCodec;
import dev.meridian.proxy.upstream.BackendHandler;
import dev.meridian.proxy.upstream.ClientConnection;
import dev.meridian.proxy.upstream.UpstreamListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one client HTTP/1 connection (as the last handler of its pipeline) or one HTTP/2 stream
 * (started and fed by its {@link Http2ClientStream}, in no pipeline): it sequences the connection's exchanges, one
 * request at a time and in order (pipelined requests wait their turn), and hands each step of a
 * request to its phase (see the package documentation for the whole path):
 * {@link RequestAdmission} (validate, route), {@link UpstreamAttempts} (backend, connection, retries),
 * {@link RequestBodyRelay} (request body), {@link ResponseRelay} (response back) and
 * {@link ExchangeCompletion} (local answers, connection reuse).
 *
 * <p>Back-pressure: the client is read (an HTTP/2 stream's window credited) only while the current
 * request's body can be written upstream (writable), the backend only while the client is writable.
 * The phases reach the client through {@link ClientSide}, whichever it is.
 * Memory per connection is bounded by the write watermarks plus one read.
 *
 * <p>The phases share this connection's state through its package-private fields. Thread safety:
 * everything runs on the client connection's event loop, which also owns the upstream connection.
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
  final ResponseHeadersTimer responseTimer;
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
  /** What the phases do to the client (write, flush, close, read on); set once the handler starts. */
  ClientSide client;
  /** The request being served, or null between requests. */
  Exchange exchange;
  /** The connection is closing: nothing more is read or started. */
  boolean closing;
  /** Something was written upstream since the last flush. */
  boolean upstreamNeedsFlush;
  /** The client half-closed: what it sent is answered, then the connection closes. */
  boolean inputClosed;
  /** This handler serves one HTTP/2 stream rather than an HTTP/1 connection. */
  final boolean http2Stream;
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
  /** The HTTP/1 connection's codec (null on an HTTP/2 stream). */
  final ServerHttpCodec codec;
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
    this(context, codec, false, scheme, memo);
  }

  /**
   * Creates the handler of an HTTP/2 stream, not in any pipeline: its {@link Http2ClientStream} hands
   * it the stream's messages and events ({@link #startOn} first).
   *
   * @param memo what the requests of the stream's connection share
   */
  static FrontendHandler forStream(ProxyContext context, String scheme, ConnectionMemo memo) {
    return new FrontendHandler(context, null, true, scheme, memo);
  }

  private FrontendHandler(ProxyContext context, ServerHttpCodec codec, boolean http2Stream, String scheme,
      ConnectionMemo memo) {
    this.context = context;
    this.http2Stream = http2Stream;
    this.scheme = scheme;
    this.attempts = new UpstreamAttempts(this);
    this.requestBody = new RequestBodyRelay(this);
    this.response = new ResponseRelay(this);
    this.responseTimer = new ResponseHeadersTimer(this);
    this.completion = new ExchangeCompletion(this);
    this.cache = new EdgeCachePhase(this);
    this.headTimer = new RequestHeadTimer(this, codec);
    this.codec = codec;
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

  /** The client certificate its TLS handshake verified, as RFC 9440's {@code Client-Cert} value, or null. */
  String clientCertField() {
    return connectionMemo.clientCertField();
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
      startOn(ClientSide.ofConnection(ctx));
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    startOn(ClientSide.ofConnection(ctx));
  }

  /**
   * Starts serving the client (an HTTP/1 connection once it is active and this handler is in place,
   * or an HTTP/2 stream once opened); only the first call counts.
   */
  void startOn(ClientSide client) {
    if (this.client != null) {
      return;
    }
    this.client = client;
    connectionMemo.identify(client.socket());
    this.clientAddress = connectionMemo.clientAddress();
    this.clientIp = connectionMemo.clientIp();
    if (!http2Stream) {
      // A stream is not a connection: an HTTP/2 connection is counted once, by Http2Connection.
      context.metrics.clientConnectionOpened();
      countedConnection = true;
      headTimer.start();
    }
    client.resumeReading();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    receive(msg);
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
    clientReadComplete();
  }

  /** The client's bytes read so far were handed on: flush them upstream, and read on if they can be taken. */
  void clientReadComplete() {
    flushUpstream();
    inbound.maybeRead();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    clientWritabilityChanged();
    ctx.fireChannelWritabilityChanged();
  }

  /**
   * The client may take more response bytes, or fewer: the backend is read while the client takes
   * them, and waits otherwise; between requests, the next pipelined one starts once it takes them. A
   * response not yet begun is always read: its head is not held back by flow control, a client may
   * keep a stream's window shut until it has seen the head, and a backend held back from answering
   * would be blamed for the response-headers timeout.
   */
  void clientWritabilityChanged() {
    Exchange ex = exchange;
    if (ex == null && client.pipelines() && client.isWritable()) {
      // Between requests: a pipelined request, or the reading the last answer's unsent bytes held
      // back, waited for the client to take the answers written before.
      inbound.drain();
      inbound.maybeRead();
      return;
    }
    if (ex == null || ex.upstream == null || ex.responseComplete()) {
      return;
    }
    if (!ex.responseStarted() || client.isWritable()) {
      ReadDemand.resume(ex.upstream);
    } else {
      ReadDemand.pause(ex.upstream);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      ClientStalls.onIdle(this);
      return;
    }
    if (evt instanceof ChannelInputShutdownEvent) {
      ClientStalls.onInputClosed(this);
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
    if (evt == DrainEvent.TIME_UP) {
      completion.answerAtDrainTimeout();
      return;
    }
    if (evt == DrainEvent.GRACE_OVER) {
      graceOver = true;
      if (exchange == null && inbound.isEmpty()) {
        // Its last answer may still be on its way to a slow reader: the connection closes once that
        // is sent, and reads no request meanwhile (one read now would be cut off by that close).
        client.pauseReading();
        client.closeWhenWritten(false);
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    clientClosed();
  }

  /** The client is gone (its connection closed, or its stream ended or was reset): what it held is freed. */
  void clientClosed() {
    closing = true;
    headTimer.cancel();
    responseTimer.stopTimer();
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
    if (client == null) {
      log.debug("{}: client connection error: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
      return;
    }
    clientFailed(cause);
  }

  /** The client's connection failed, or an HTTP/2 stream broke a rule: the stream is reset, a connection closed. */
  void clientFailed(Throwable cause) {
    Http2Error streamError = cause instanceof Http2FrameStreamException e ? e.error()
        : cause instanceof Http2Exception.StreamException e ? e.error() : null;
    if (streamError == Http2Error.PROTOCOL_ERROR && (requestEnded || client.clientEnded()) && isExtraHeaders(cause)) {
      // RFC 9113 section 5.1: HEADERS on a stream the client already ended (Netty's decoder calls it
      // a protocol error: too many headers) is a STREAM_CLOSED error. Other protocol errors on such a
      // stream (a WINDOW_UPDATE of 0, a PRIORITY on itself) stay what they are.
      streamError = Http2Error.STREAM_CLOSED;
    }
    if (streamError != null) {
      // An HTTP/2 stream error (the codec's, or broken trailers): reset the stream with the error's
      // own code, not the CANCEL a plain close would send (or nothing, once the request had ended).
      log.debug("{}: HTTP/2 stream error: {}", clientIp, cause.toString());
      client.reset(streamError);
      return;
    }
    log.debug("{}: client connection error: {}", clientIp, cause.toString());
    client.close();
  }

  /** Whether the error is Netty's decoder refusing a HEADERS frame after the stream's last one. */
  private static boolean isExtraHeaders(Throwable cause) {
    String message = cause.getMessage();
    return message != null && message.contains("too many headers"); // DefaultHttp2ConnectionDecoder's words
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
    AccessLogRecorder.noteRequestFields(context, ex);
    if (request.decoderResult().isFailure()) {
      rejectMalformed(ex, request.decoderResult().cause());
      return;
    }
    RequestAdmission.Verdict verdict = RequestAdmission.admit(ex, context, now.routing(), clientIp, connectionMemo);
    if (drainRequested) {
      ex.clientKeepAlive = false;
    }
    if (verdict != null) {
      ex.noteTargetAsSent();
      completion.respondLocally(ex, verdict);
      return;
    }
    // Admission checked the framing: a Content-Length here is a valid number.
    ex.declaredLength = ex.http2 ? HttpUtil.getContentLength(request, -1L) : -1L;
    if (http2Stream && !ex.bodiless) {
      headTimer.start(); // an HTTP/2 upload is held to limits.min-request-body-rate too (a timer per upload only)
    }
    if (context.cache != null && !EdgeCachePhase.isSafe(ex.method)) {
      cache.noteInvalidation(ex, now.routing().router().routes());
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
    String more = context.failureLog.admittedLine("client request", "malformed");
    if (more != null) {
      log.info("{}: rejected request: {} ({}){}", clientIp, status, LogText.printable(cause.getMessage()), more);
    }
    ex.noteTargetAsSent();
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
    GRACE_OVER,
    /**
     * The drain timeout passed: a request whose response has not begun is answered 503 before its
     * connection is closed.
     */
    TIME_UP
  }
}
