package dev.meridian.health;

import dev.meridian.balancer.Backend;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One active check of one backend: a new connection (speaking as the group's traffic does, {@link
 * CheckConnections}), for {@code http} checks one request on it, and a deadline over the whole;
 * it reports its verdict to its {@link Outcome} exactly once, on the backend's event loop.
 *
 * <p>The connection's handlers end it: {@link HttpCheckHandler} with the response's verdict,
 * {@link CheckConnectionEnd} when the connection closes or fails first.
 */
final class CheckAttempt {
  /** What a check's owner is told, on the check's loop. */
  interface Outcome {
    /** The check ended (once): passed or not, and what it saw. */
    void finished(CheckAttempt attempt, boolean passed, String reason);

    /** A check response's replication lag header value (null when absent). */
    void replicationLag(String headerValue);
  }

  private final Backend backend;
  private final EventLoop loop;
  private final ActiveCheckSettings settings;
  private final Class<? extends SocketChannel> channelClass;
  private final CheckConnections connections;
  private final long startedAt;
  private final Outcome outcome;
  private Channel channel;
  private ScheduledFuture<?> deadline;
  private boolean done;

  /**
   * Prepares a check (call {@link #begin()} on {@code loop}).
   *
   * @param startedAt when it starts, on the checker's clock
   */
  CheckAttempt(Backend backend, EventLoop loop, ActiveCheckSettings settings,
      Class<? extends SocketChannel> channelClass, CheckConnections connections, long startedAt,
      Outcome outcome) {
    this.backend = backend;
    this.loop = loop;
    this.settings = settings;
    this.channelClass = channelClass;
    this.connections = connections;
    this.startedAt = startedAt;
    this.outcome = outcome;
  }

  /** When the check started, on the checker's clock. */
  long startedAt() {
    return startedAt;
  }

  /** Connects, arms the deadline and, once connected, passes ({@code tcp}) or sends the request. */
  void begin() {
    long timeoutMillis = Math.max(1, settings.timeout().toMillis());
    Bootstrap bootstrap = new Bootstrap()
        .group(loop)
        .channel(channelClass)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            addHandlers(ch);
          }
        });
    deadline = loop.schedule(() -> fail("timeout after " + timeoutMillis + " ms"),
        settings.timeout().toNanos(), TimeUnit.NANOSECONDS);
    ChannelFuture connect = bootstrap.connect(backend.host(),
        settings.port() != 0 ? settings.port() : backend.port());
    channel = connect.channel();
    connect.addListener((ChannelFuture f) -> {
      if (!f.isSuccess()) {
        fail("connect: " + describe(f.cause()));
      } else if (!settings.isHttp()) {
        pass("connected");
      } else if (!done && connections.http2()) {
        askOverHttp2(f.channel());
      } else if (!done) {
        send(f.channel());
      }
    });
  }

  private void addHandlers(SocketChannel ch) {
    connections.setUp(ch, backend);
    if (settings.isHttp() && connections.http2()) {
      ch.pipeline().addLast("h2", Http2FrameCodecBuilder.forClient()
              .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)).build())
          .addLast("h2-mux", new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()))
          .addLast("h2-end", new CheckConnectionEnd(this));
    } else if (settings.isHttp()) {
      ch.pipeline().addLast("http-codec", new HttpClientCodec());
      ch.pipeline().addLast(HttpCheckHandler.NAME, new HttpCheckHandler(this, settings))
          .addLast("end", new CheckConnectionEnd(this));
    }
  }

  /** Opens one stream on the check connection and sends the check request on it. */
  private void askOverHttp2(Channel connection) {
    new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Http2StreamChannel>() {
      @Override
      protected void initChannel(Http2StreamChannel stream) {
        stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false))
            .addLast(HttpCheckHandler.NAME, new HttpCheckHandler(CheckAttempt.this, settings))
            .addLast("end", new CheckConnectionEnd(CheckAttempt.this));
      }
    }).open().addListener((Future<Http2StreamChannel> opened) -> {
      if (!opened.isSuccess()) {
        fail("stream: " + describe(opened.cause()));
      } else {
        send(opened.getNow());
      }
    });
  }

  private void send(Channel to) {
    to.writeAndFlush(request()).addListener((ChannelFuture w) -> {
      if (!w.isSuccess()) {
        fail("write: " + describe(w.cause()));
      }
    });
  }

  private FullHttpRequest request() {
    FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(settings.method()),
        settings.path());
    settings.headers().forEach(req.headers()::set);
    req.headers()
        .set(HttpHeaderNames.HOST, settings.hostHeader().orElse(backend.authority()))
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
        .set(HttpHeaderNames.USER_AGENT, "meridian-health-check")
        .set(HttpHeaderNames.ACCEPT, "*/*")
        .set(HttpHeaderNames.CONTENT_LENGTH, 0);
    return req;
  }

  /** Records the lag header of a response; called by the HTTP handler. */
  void replicationLag(String headerValue) {
    outcome.replicationLag(headerValue);
  }

  void pass(String reason) {
    end(true, reason);
  }

  void fail(String reason) {
    end(false, reason);
  }

  /** Stops without reporting (the checker is closing). */
  void abandon() {
    done = true;
    cleanUp();
  }

  private void end(boolean passed, String reason) {
    if (done) {
      return;
    }
    done = true;
    cleanUp();
    outcome.finished(this, passed, reason);
  }

  private void cleanUp() {
    if (deadline != null) {
      deadline.cancel(false);
    }
    if (channel != null) {
      channel.close();
    }
  }

  private static String describe(Throwable cause) {
    String message = cause.getMessage();
    return message == null ? cause.getClass().getSimpleName() : message;
  }
}
