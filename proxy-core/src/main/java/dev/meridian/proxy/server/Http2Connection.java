package dev.meridian.proxy.server;

import dev.meridian.proxy.config.MeridianSettings.LimitSettings;
import dev.meridian.proxy.http.NeverIndexedHeaders;
import dev.meridian.proxy.metrics.ProxyMetrics;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * Installs HTTP/2 on a client connection: the frame codec with safe limits, and for each stream a
 * {@link FrontendHandler}, the same as an HTTP/1.1 connection's, to which the stream's frames are
 * translated as HTTP/1.1 messages (translate at the edges, not a second proxy).
 *
 * <pre>
 *  connection --> [h2-flush]  FlushConsolidationHandler: the streams' flushes in one event-loop turn
 *                             leave as one write (one TLS record, one syscall) at the end of it
 *             --> [h2]        Http2FrameCodec: max 100 concurrent streams, 16KiB header list, rapid
 *                             reset, MadeYouReset, CONTINUATION and control-frame flood limits;
 *                             HEADERS on closed or passed-over streams and header blocks left
 *                             open past the request-head timeout refused (ClientFrameGuard);
 *                             credentials and request ids never HPACK-indexed (NeverIndexedHeaders);
 *                             response bytes shared evenly among streams (ServerCodecBuilder),
 *                             those held back for the client counted (HeldResponseBytes)
 *             --> [h2-streams] Http2Streams: per stream an Http2ClientStream (no channel of its
 *                             own) and a FrontendHandler; the stream's Http2StreamCodec translates
 *                             its frames to and from the HTTP/1.1 forms, and the client's window is
 *                             credited as the handler takes its body (per-stream back-pressure);
 *                             streams are unwritable while the held-back bytes are over budget
 *             --> [h2-conn]   closes an idle connection, GOAWAY on drain; keeps HPACK's dynamic
 *                             table for response headers at size 0 (ConnectionEvents)
 * </pre>
 */
final class Http2Connection {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Http2Connection.class);
  /** Streams Meridian may reset for a client's own frames within {@link #PROVOKED_RESET_WINDOW_SECONDS} (see {@link ProvokedResetLimit}). */
  static final int MAX_PROVOKED_RESETS = 200;
  static final int PROVOKED_RESET_WINDOW_SECONDS = 30;
  /** Most streams a client may have open at once. */
  static final int MAX_CONCURRENT_STREAMS = 100;
  /** Largest header list a client may send, in bytes. */
  static final int MAX_HEADER_LIST_SIZE = 16 * 1024;

  private Http2Connection() {}

  /** Adds the HTTP/2 handlers at the end of the pipeline. */
  static void install(ChannelPipeline pipeline, ProxyContext context, String scheme) {
    RequestPolicies policies = context.policies();
    LimitSettings limits = policies.settings.limits();
    ServerCodecBuilder builder = new ServerCodecBuilder(limits.requestHeadTimeout().toNanos(),
        limits.http2ConnectionBuffer());
    Http2FrameCodec codec = builder
        .initialSettings(Http2Settings.defaultSettings()
            .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
            .maxHeaderListSize(MAX_HEADER_LIST_SIZE))
        .validateHeaders(true)
        .validateRequiredPseudoHeaders(true)
        .headerSensitivityDetector(new NeverIndexedHeaders(policies.requestRewriter.requestIdHeader()))
        .decoderEnforceMaxRstFramesPerWindow(200, 30)
        .encoderEnforceMaxRstFramesPerWindow(0, 0) // Netty's counts backend failures too: ProvokedResetLimit instead
        .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
        .decoderEnforceMaxSmallContinuationFrames(16)
        .encoderEnforceMaxQueuedControlFrames(10_000)
        .gracefulShutdownTimeoutMillis(policies.settings.server().drainTimeout().toMillis())
        .build();
    codec.connection().addListener(new StreamMeters(context.metrics.edge()));
    ConnectionMemo memo = new ConnectionMemo(context.metrics, context.trustedProxies);
    pipeline.addLast("h2-flush", new FlushConsolidationHandler(
            FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true))
        .addLast("h2", codec)
        .addLast("h2-streams", new Http2Streams(codec.connection(), builder.held, context, scheme, memo, limits))
        .addLast("h2-conn", new ConnectionEvents(codec, context.metrics, context.failureLog,
            policies.settings.timeouts().clientIdle().toNanos()));
    pipeline.channel().config().setAutoRead(true);
  }

  /**
   * Builds the connection's frame codec with a {@link UniformStreamByteDistributor}: response bytes
   * are shared evenly among the streams that have some to send. Netty's default, the weighted fair
   * queue, serves the priority tree RFC 9113 deprecated, and keeps two maps, two priority queues and
   * their states on every connection, idle ones included (measured on 2026-12-04: 0.8 KiB less per
   * idle connection, together with a lighter stream setup). The distributor is seen through
   * {@link HeldResponseBytes}, which counts the response bytes held back for the client.
   */
  private static final class ServerCodecBuilder extends Http2FrameCodecBuilder {
    private final long headerBlockTimeoutNanos;
    final HeldResponseBytes held;

    ServerCodecBuilder(long headerBlockTimeoutNanos, long heldBytesBudget) {
      this.headerBlockTimeoutNanos = headerBlockTimeoutNanos;
      DefaultHttp2Connection connection = new DefaultHttp2Connection(true);
      held = new HeldResponseBytes(connection, new UniformStreamByteDistributor(connection), heldBytesBudget);
      connection.remote().flowController(new DefaultHttp2RemoteFlowController(connection, held));
      connection(connection);
    }

    /**
     * The decoder Netty built (with its flood limits), behind a {@link ClientFrameGuard}; the encoder
     * behind a {@link ProvokedResetLimit}.
     */
    @Override
    protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
        Http2Settings initialSettings) {
      return super.build(new ClientFrameGuard(decoder, headerBlockTimeoutNanos, held),
          new ProvokedResetLimit(encoder, MAX_PROVOKED_RESETS, PROVOKED_RESET_WINDOW_SECONDS, System::nanoTime),
          initialSettings);
    }
  }

  /** Counts the streams clients open and those Meridian resets. */
  private static final class StreamMeters extends io.netty.handler.codec.http2.Http2ConnectionAdapter {
    private final dev.meridian.proxy.metrics.EdgeMeters meters;

    StreamMeters(dev.meridian.proxy.metrics.EdgeMeters meters) {
      this.meters = meters;
    }

    @Override
    public void onStreamAdded(io.netty.handler.codec.http2.Http2Stream stream) {
      meters.http2StreamOpened();
    }

    @Override
    public void onStreamClosed(io.netty.handler.codec.http2.Http2Stream stream) {
      if (stream.isResetSent()) {
        meters.http2ResetSent();
      }
    }
  }

  /**
   * Counts the connection (once, whatever its streams) among the open client connections, closes
   * it (GOAWAY, then waits for open streams) when idle (no bytes moving, or no stream open for
   * client-idle: {@link Http2IdleConnection}), draining, or closed by the client, and keeps
   * response headers out of HPACK's dynamic table.
   */
  /** How long a connection whose client closed its side has for what was written to leave. */
  private static final long CLIENT_GONE_GRACE_MILLIS = 1000;

  private static final class ConnectionEvents extends ChannelDuplexHandler {
    private final Http2FrameCodec codec;
    private final ProxyMetrics metrics;
    private final FailureLogLimit failureLog;
    private final long idleTimeoutNanos;
    private Http2IdleConnection idle;

    ConnectionEvents(Http2FrameCodec codec, ProxyMetrics metrics, FailureLogLimit failureLog, long idleTimeoutNanos) {
      this.codec = codec;
      this.metrics = metrics;
      this.failureLog = failureLog;
      this.idleTimeoutNanos = idleTimeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      metrics.clientConnectionOpened();
      idle = new Http2IdleConnection(ctx, codec.connection(), idleTimeoutNanos);
      idle.start();
      ctx.channel().closeFuture().addListener(closed -> {
        metrics.clientConnectionClosed();
        idle.stop();
      });
    }

    /**
     * After each SETTINGS from the client (which has just set the encoder's table to the size the
     * client allows), takes the response headers' HPACK dynamic table back to size 0: every response
     * field is then sent from the static table or as a literal without indexing, as nginx and HAProxy
     * send theirs. Indexing kept each connection's recent response fields (and the response heads
     * their values are views of) for as long as the connection lived, about 0.5 KiB of live heap
     * per idle HTTP/2 connection (measured 2026-12-06), and cost a hash lookup and often an
     * insertion and eviction per field, for fields that mostly change from response to response
     * (date, etag, length) or are a few bytes long. The client hears of the size as RFC 7541
     * section 4.2 says: an update at the start of the next header block (two when a SETTINGS
     * changed it in between: the client's size, then 0).
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2SettingsFrame) {
        try {
          codec.encoder().configuration().headersConfiguration().maxHeaderTableSize(0);
        } catch (Http2Exception e) {
          throw new IllegalStateException(e); // 0 is always a valid size
        }
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof IdleStateEvent) {
        if (codec.connection().numActiveStreams() == 0) {
          ctx.close();
        }
        return;
      }
      if (evt == FrontendHandler.DrainEvent.INSTANCE) {
        // RFC 9113 6.8, in two steps: first a GOAWAY naming the highest stream id, so that the
        // client opens no new stream and the ones it is sending right now are still served...
        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE));
        return;
      }
      if (evt == FrontendHandler.DrainEvent.GRACE_OVER) {
        // ...then, once they have arrived, the last stream served, and close when it is answered.
        ctx.write(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
        ctx.close();
        return;
      }
      if (evt instanceof ChannelInputShutdownEvent) {
        // The client closed its side (the listener allows half-closed connections for HTTP/1.1).
        // An HTTP/2 client that closes its side is gone: it could not even acknowledge SETTINGS or
        // PING. So the connection closes within a second (what was written may still leave), not once
        // its open streams are answered (the codec's graceful close waits up to 30 s): their
        // requests are abandoned and their backends freed,
        // and each is logged 499 (or cut off), as nginx and Envoy do; a long poll or an event
        // stream held its backend for as long as the backend took, and was logged delivered.
        codec.gracefulShutdownTimeoutMillis(CLIENT_GONE_GRACE_MILLIS);
        ctx.close();
        return;
      }
      super.userEventTriggered(ctx, evt);
    }

    /**
     * Logs a connection error (answered with GOAWAY by the codec, which also closes) at INFO, so an
     * operator sees a flood (rapid reset, CONTINUATION, SETTINGS) and where it came from: the first
     * of each kind, then at most one a second with how many were left out (a flood from many
     * connections must not bury the log). A reset or broken socket is only the client leaving: DEBUG.
     * Anything else ended the connection and every stream on it for a fault of Meridian's or Netty's
     * own (a chaos trial found a NullPointerException doing so, logged nowhere): WARN, limited alike.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof java.io.IOException) {
        log.debug("{}: HTTP/2 connection: {}", ctx.channel().remoteAddress(), cause.toString());
        return;
      }
      if (!(cause instanceof io.netty.handler.codec.http2.Http2Exception)) {
        String leftOut = failureLog.admittedLine("http2-connection-failure", cause.getClass().getName());
        if (leftOut != null) {
          log.warn("{}: HTTP/2 connection ended by an internal error: {}{}", ctx.channel().remoteAddress(),
              cause, leftOut, cause);
        }
        return;
      }
      String leftOut = failureLog.admittedLine("http2-connection-error",
          ((io.netty.handler.codec.http2.Http2Exception) cause).error().name());
      if (leftOut != null) {
        log.info("{}: HTTP/2 connection error, GOAWAY: {}{}", ctx.channel().remoteAddress(), cause.getMessage(),
            leftOut);
      }
    }
  }
}
