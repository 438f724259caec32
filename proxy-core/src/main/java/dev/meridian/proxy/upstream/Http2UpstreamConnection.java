package dev.meridian.proxy.upstream;

import dev.meridian.balancer.Backend;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import dev.meridian.proxy.transport.IdleTimeoutHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 connection to a backend, carrying many requests as streams: it opens, waits for the
 * backend's SETTINGS (which say how many streams it takes), hands out streams while it has room, and
 * stops taking new ones after the backend's GOAWAY, closing once the last stream ends.
 *
 * <pre>
 *  connection --> [tls]      SslHandler, ALPN h2 (h2 only)
 *             --> [h2]       Http2FrameCodec: client, no push, the backend's stream limit enforced
 *             --> [h2-mux]   Http2MultiplexHandler: a child channel per request
 *             --> [idle]     closes the connection after the idle timeout without streams
 *             --> [h2-conn]  this connection's state: SETTINGS, GOAWAY, ALPN, close
 *  stream     --> [h2-http1] UpstreamHttp2StreamCodec
 *             --> [join]     BodilessRequestJoiner: a GET is one HEADERS frame with END_STREAM
 *             --> [idle]     a stalled response
 *             --> [backend]  BackendHandler (auto-read off: per-stream back-pressure)
 * </pre>
 *
 * <p>Not thread-safe: used only on its event loop.
 */
final class Http2UpstreamConnection {
  private static final Logger log = LoggerFactory.getLogger(Http2UpstreamConnection.class);
  /** Streams a connection is expected to take before its backend's SETTINGS say otherwise. */
  static final int ASSUMED_MAX_STREAMS = 100;
  /**
   * Streams the connection's receive window is sized for when the backend allows more (or no limit):
   * the window is as wide as this many streams' windows together (at most 2^31-1 bytes).
   */
  static final int WINDOW_STREAMS = 32_768;

  private enum State { CONNECTING, READY, DRAINING, CLOSED }

  /** A request waiting for a stream; the promise completes with the stream channel. */
  record StreamRequest(UpstreamListener listener, Promise<Channel> promise) {}

  private final Backend backend;
  private final BackendLink link;
  private final Http2UpstreamConnections owner;
  private final UpstreamSettings settings;
  private final ArrayDeque<StreamRequest> waiting = new ArrayDeque<>();
  private State state = State.CONNECTING;
  private Channel channel;
  private Http2FrameCodec codec;
  private ScheduledFuture<?> readyTimer;
  private int streams;
  private long served;

  Http2UpstreamConnection(Backend backend, BackendLink link, Http2UpstreamConnections owner,
      UpstreamSettings settings) {
    this.backend = backend;
    this.link = link;
    this.owner = owner;
    this.settings = settings;
  }

  Backend backend() {
    return backend;
  }

  BackendLink link() {
    return link;
  }

  /** Whether a new stream may open now: ready, not going away, below the backend's stream limit. */
  boolean hasRoom() {
    return state == State.READY && channel.isActive()
        && streams < codec.connection().local().maxActiveStreams();
  }

  /** Whether the connection takes streams (it may be full). */
  boolean isReady() {
    return state == State.READY && channel.isActive();
  }

  /** Whether the connection is still being set up (requests wait for it). */
  boolean isConnecting() {
    return state == State.CONNECTING;
  }

  /** Requests waiting for the connection to be ready. */
  int waiting() {
    return waiting.size();
  }

  /** Streams open on the connection. */
  int streams() {
    return streams;
  }

  /** The connection's channel, once connecting started. */
  Channel channel() {
    return channel;
  }

  /** Starts connecting; requests given to {@link #await} get streams once the backend's SETTINGS arrive. */
  void connect(Bootstrap bootstrap) {
    Bootstrap b = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (link.tls() != null) {
          ch.pipeline().addLast("tls", link.tls().newHandler(ch, backend.host(), backend.port()));
        }
        codec = Http2FrameCodecBuilder.forClient()
            .initialSettings(Http2Settings.defaultSettings()
                .pushEnabled(false)
                .maxHeaderListSize(settings.maxResponseHeaderBytes()))
            .validateHeaders(true)
            .headerSensitivityDetector(settings.neverIndexed())
            .encoderEnforceMaxConcurrentStreams(true)
            .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
            .decoderEnforceMaxSmallContinuationFrames(16)
            .encoderEnforceMaxQueuedControlFrames(10_000)
            .build();
        ch.pipeline()
            .addLast("h2", codec)
            .addLast("h2-mux", new Http2MultiplexHandler(new RefusePushedStreams()))
            .addLast("idle", new IdleTimeoutHandler(settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS))
            .addLast("h2-conn", new ConnectionEvents());
        // The connection reads all the time; each stream's reads follow its own client (flow control).
        ch.config().setAutoRead(true);
      }
    });
    long started = System.nanoTime();
    ChannelFuture connect = b.connect(new InetSocketAddress(backend.host(), backend.port()));
    channel = connect.channel();
    connect.addListener(f -> {
      if (!f.isSuccess()) {
        fail(f.cause());
        return;
      }
      owner.opened(channel, backend, System.nanoTime() - started);
      long timeout = settings.connectTimeout().toMillis();
      readyTimer = channel.eventLoop().schedule(() -> {
        if (state == State.CONNECTING) {
          fail(new ConnectTimeoutException("backend " + backend.id() + " sent no HTTP/2 SETTINGS within "
              + timeout + " ms"));
        }
      }, timeout, TimeUnit.MILLISECONDS);
    });
  }

  /** Queues a request until the connection is ready, or (when full) until one of its streams ends. */
  void await(StreamRequest request) {
    waiting.add(request);
  }

  /** Opens a stream for the request; the connection must have room. */
  void openStream(StreamRequest request) {
    streams++;
    boolean reused = served++ > 0;
    BackendHandler handler = new BackendHandler(backend, link, null, ch -> streamClosed(), reused);
    Future<Http2StreamChannel> open = new Http2StreamChannelBootstrap(channel)
        .handler(new ChannelInitializer<Http2StreamChannel>() {
          @Override
          protected void initChannel(Http2StreamChannel stream) {
            stream.config().setAutoRead(false);
            stream.pipeline()
                .addLast("h2-http1", new UpstreamHttp2StreamCodec())
                .addLast("join", new BodilessRequestJoiner())
                .addLast("idle", new IdleTimeoutHandler(settings.idleTimeout().toMillis(),
                    TimeUnit.MILLISECONDS))
                .addLast(BackendHandler.NAME, handler);
          }
        })
        .open();
    open.addListener(f -> {
      if (f.isSuccess()) {
        handler.attach(request.listener());
        if (!request.promise().trySuccess(open.getNow())) {
          handler.detach();
          open.getNow().close();
        }
      } else {
        // The stream never opened, so its handler never reports the close.
        streamClosed();
        request.promise().tryFailure(f.cause());
      }
    });
  }

  /**
   * Its backend left the configuration: as after a GOAWAY, no new stream opens on it, and it closes
   * once its open streams end (at once when it has none). A connection still being set up is left to
   * serve the requests waiting for it.
   */
  void retire() {
    if (state == State.READY) {
      drain();
    }
  }

  private void streamClosed() {
    streams--;
    if (state == State.READY) {
      StreamRequest next;
      while (hasRoom() && (next = waiting.poll()) != null) {
        if (!next.promise().isDone()) { // a request whose wait timed out is gone
          openStream(next);
        }
      }
    }
    if (streams == 0 && state == State.DRAINING) {
      channel.close();
    }
  }

  /** The backend's SETTINGS arrived: streams may open, up to its limit; the rest go elsewhere. */
  private void ready() {
    state = State.READY;
    cancelReadyTimer();
    // The connection's receive window, 64 KiB by the protocol, widened to all its streams' windows
    // together: streams whose clients stop taking their answers (each holding back at most its own
    // stream's window) then never spend the window the connection's other streams need, as nginx and
    // Envoy keep their upstream connection windows wide. Each stream's window still bounds what it holds.
    int streamWindow = codec.connection().local().flowController().initialWindowSize();
    int connectionWindow = codec.connection().local().flowController().windowSize(codec.connection().connectionStream());
    long wanted = (long) streamWindow * Math.min(WINDOW_STREAMS, codec.connection().local().maxActiveStreams());
    if (wanted > connectionWindow) {
      channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame((int) Math.min(Integer.MAX_VALUE, wanted - connectionWindow)));
    }
    log.debug("HTTP/2 connection to {} ready; backend allows {} concurrent streams", backend,
        codec.connection().local().maxActiveStreams());
    StreamRequest request;
    while ((request = waiting.poll()) != null) {
      if (request.promise().isDone()) {
        continue; // its wait timed out
      }
      if (hasRoom()) {
        openStream(request);
      } else {
        owner.place(backend, link, request);
      }
    }
  }

  /** No new streams from now on; open ones finish (the backend processes those up to its last id). */
  private void drain() {
    if (state == State.READY || state == State.CONNECTING) {
      state = State.DRAINING;
      owner.forget(this);
      // Requests queued here go to another connection.
      StreamRequest queued;
      while ((queued = waiting.poll()) != null) {
        owner.place(backend, link, queued);
      }
      if (streams == 0) {
        channel.close();
      }
    }
  }

  private void fail(Throwable cause) {
    boolean wasConnecting = state == State.CONNECTING;
    state = State.CLOSED;
    cancelReadyTimer();
    owner.forget(this);
    StreamRequest request;
    while ((request = waiting.poll()) != null) {
      request.promise().tryFailure(cause);
    }
    if (wasConnecting && channel != null) {
      channel.close();
    }
  }

  private void cancelReadyTimer() {
    if (readyTimer != null) {
      readyTimer.cancel(false);
      readyTimer = null;
    }
  }

  /** The last handler of the connection: follows its state. */
  private final class ConnectionEvents extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2SettingsFrame && state == State.CONNECTING) {
          ready();
        } else if (msg instanceof Http2GoAwayFrame goAway) {
          log.debug("backend {} sent GOAWAY (last stream {}, error {}); {} stream(s) open", backend,
              goAway.lastStreamId(), goAway.errorCode(), streams);
          drain();
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof SslHandshakeCompletionEvent handshake) {
        if (!handshake.isSuccess()) {
          fail(handshake.cause());
          return;
        }
        String protocol = ctx.pipeline().get(SslHandler.class).applicationProtocol();
        if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
          fail(new IOException("backend " + backend.id() + " did not choose h2 by ALPN (chose "
              + (protocol == null ? "nothing" : protocol) + "); use protocol = http1 for it"));
        }
        return;
      }
      if (evt instanceof IdleStateEvent) {
        if (streams == 0) {
          drain();
          ctx.close();
        }
        return;
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      fail(new ClosedChannelException());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("HTTP/2 connection to {} failed: {}", backend, cause.toString());
      if (state == State.CONNECTING) {
        fail(cause);
      }
      ctx.close();
    }
  }

  /** Server push is off (SETTINGS_ENABLE_PUSH = 0): a stream the backend opens is refused. */
  private static final class RefusePushedStreams extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
      ctx.channel().close();
    }
  }
}
