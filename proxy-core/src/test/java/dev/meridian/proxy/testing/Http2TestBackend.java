package dev.meridian.proxy.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/2 backend on 127.0.0.1 (h2c with prior knowledge, or h2 over TLS when given a context),
 * speaking frames directly so tests can make it refuse streams or go away.
 *
 * <p>Every request is answered 200 with {@code x-seen-*} headers (method, path, authority, scheme,
 * te, connection number) and its body echoed frame by frame; paths choose other behaviours:
 * <ul>
 *   <li>{@code /trailers...}: the response ends with trailers {@code x-trailer: yes}.
 *   <li>{@code /trailers-forbidden...}: the trailers also carry fields no trailer may pass on
 *       (content-length, set-cookie, x-forwarded-for, authorization, host).
 *   <li>{@code /no-content/NNN}: answers status NNN (204, 304) and, wrongly, a body "body".
 *   <li>{@code /trailers-only}: one HEADERS frame with {@code grpc-status: 0} ends the stream.
 *   <li>{@code /slow...}: the response starts 300 ms later.
 *   <li>{@code /refuse-once...}: the first such request is reset with REFUSED_STREAM.
 *   <li>{@code /goaway-once...}: the first such request gets GOAWAY below its stream id (unprocessed).
 *   <li>{@code /reset...}: the request is reset with INTERNAL_ERROR.
 * </ul>
 */
public final class Http2TestBackend implements AutoCloseable {
  /** One request as the backend saw it. */
  public record Request(int connection, String method, String path, Http2Headers headers) {}

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  /** Accepted connections, closed by {@link #close()}: the loop's shutdown does not close them. */
  private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger maxConcurrentPerConnection = new AtomicInteger();
  private final AtomicInteger refusals = new AtomicInteger();
  private final AtomicInteger goAways = new AtomicInteger();
  private final AtomicInteger resetsReceived = new AtomicInteger();
  private volatile boolean stallsEverything;
  private final List<Http2FrameCodec> codecs = new CopyOnWriteArrayList<>();
  private Channel server;

  private Http2TestBackend() {}

  /** Starts a backend; {@code tls} null for h2c; {@code maxConcurrentStreams} as SETTINGS announce. */
  public static Http2TestBackend start(SslContext tls, int maxConcurrentStreams) throws InterruptedException {
    Http2TestBackend backend = new Http2TestBackend();
    backend.server = new ServerBootstrap().group(backend.group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            backend.children.add(ch);
            if (tls != null) {
              ch.pipeline().addLast(tls.newHandler(ch.alloc()));
            }
            Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(maxConcurrentStreams))
                .build();
            backend.codecs.add(codec);
            ch.pipeline().addLast(codec, backend.new FrameHandler(backend.connections.incrementAndGet(), codec));
          }
        }).bind("127.0.0.1", 0).sync().channel();
    return backend;
  }

  /** The address to connect to. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  /** Requests seen so far, in arrival order. */
  public List<Request> requests() {
    return requests;
  }

  /** Connections accepted so far. */
  public int connections() {
    return connections.get();
  }

  /** Connections open now. */
  public int openConnections() {
    return children.size();
  }

  /** The most streams one connection had open at once. */
  public int maxConcurrentPerConnection() {
    return maxConcurrentPerConnection.get();
  }

  /** Streams refused or answered with GOAWAY so far. */
  public int unprocessed() {
    return refusals.get() + goAways.get();
  }

  /** Makes the backend leave every request unanswered from now on, its stream open (as {@code /stall} does). */
  public Http2TestBackend stalling() {
    stallsEverything = true;
    return this;
  }

  /**
   * The flow-control windows (the connection's, then each open stream's, starred when bytes wait for
   * it) of every connection, when some stream's sending waits for a spent window; else null. Taken
   * on the backend's event loop: two equal snapshots some time apart show a stall that lasts.
   */
  public String sendWindowsWhileHeld() throws Exception {
    return group.next().submit(() -> {
      StringBuilder snapshot = new StringBuilder();
      boolean[] held = {false};
      for (Http2FrameCodec codec : codecs) {
        io.netty.handler.codec.http2.Http2Connection c = codec.connection();
        io.netty.handler.codec.http2.Http2RemoteFlowController flow = c.remote().flowController();
        boolean connectionSpent = flow.windowSize(c.connectionStream()) <= 0;
        snapshot.append("connection=").append(flow.windowSize(c.connectionStream()));
        c.forEachActiveStream(stream -> {
          boolean waits = flow.hasFlowControlled(stream);
          held[0] |= waits && (connectionSpent || flow.windowSize(stream) <= 0);
          snapshot.append(' ').append(stream.id()).append('=').append(flow.windowSize(stream)).append(waits ? "*" : "");
          return true;
        });
      }
      return held[0] ? snapshot.toString() : null;
    }).get(5, TimeUnit.SECONDS);
  }

  /** RST_STREAM frames the client sent so far (streams it cancelled). */
  public int resetsReceived() {
    return resetsReceived.get();
  }

  /** Closes the listening socket, then every connection (see {@link TestBackend#close()}), and stops the loop. */
  @Override
  public void close() {
    server.close().awaitUninterruptibly();
    children.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** Answers the frames of one connection. */
  private final class FrameHandler extends ChannelInboundHandlerAdapter {
    private final int connection;
    private final Http2FrameCodec codec;
    private final Map<Http2FrameStream, String> paths = new HashMap<>();

    FrameHandler(int connection, Http2FrameCodec codec) {
      this.connection = connection;
      this.codec = codec;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame headers) {
          onHeaders(ctx, headers);
        } else if (msg instanceof Http2DataFrame data) {
          onData(ctx, data);
        } else if (msg instanceof io.netty.handler.codec.http2.Http2ResetFrame) {
          resetsReceived.incrementAndGet();
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
      Http2FrameStream stream = frame.stream();
      if (paths.containsKey(stream)) {
        // Request trailers end the request.
        finish(ctx, stream);
        return;
      }
      Http2Headers h = frame.headers();
      String path = String.valueOf(h.path());
      requests.add(new Request(connection, String.valueOf(h.method()), path, h));
      paths.put(stream, path);
      maxConcurrentPerConnection.accumulateAndGet(paths.size(), Math::max);
      if (path.startsWith("/refuse-once") && refusals.compareAndSet(0, 1)) {
        paths.remove(stream);
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM).stream(stream));
        return;
      }
      if (path.startsWith("/goaway-once") && goAways.compareAndSet(0, 1)) {
        paths.remove(stream);
        // Last stream id 0: none of the client's streams was processed.
        ChannelHandlerContext codecContext = ctx.pipeline().context(codec);
        codec.goAway(codecContext, 0, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER, codecContext.newPromise());
        codecContext.flush();
        return;
      }
      if (path.startsWith("/reset")) {
        paths.remove(stream);
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR).stream(stream));
        return;
      }
      if (path.startsWith("/status/")) {
        // Answers with the :status the path names, as sent: "/status/2000" sends "2000".
        paths.remove(stream);
        String status = java.net.URLDecoder.decode(path.substring("/status/".length()), StandardCharsets.US_ASCII);
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers(false).status(status), true)
            .stream(stream));
        return;
      }
      if (path.startsWith("/big/")) {
        // /big/<bytes>: that many bytes of body; the codec sends them as the client's windows allow.
        paths.remove(stream);
        int left = Integer.parseInt(path.substring("/big/".length()));
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
            .add("content-length", Integer.toString(left)), false).stream(stream));
        while (left > 0) {
          int n = Math.min(left, 16 * 1024);
          left -= n;
          ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[n]), left == 0).stream(stream));
        }
        ctx.flush();
        return;
      }
      if (path.startsWith("/no-content/")) {
        paths.remove(stream);
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status(path.substring("/no-content/".length())),
            false).stream(stream));
        ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII), false)
            .stream(stream));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(true).stream(stream));
        return;
      }
      if (path.equals("/trailers-only")) {
        paths.remove(stream);
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
            .add("content-type", "application/grpc").add("grpc-status", "0"), true).stream(stream));
        return;
      }
      Http2Headers response = new DefaultHttp2Headers().status("200")
          .add("x-seen-method", String.valueOf(h.method()))
          .add("x-seen-path", path)
          .add("x-seen-authority", String.valueOf(h.authority()))
          .add("x-seen-scheme", String.valueOf(h.scheme()))
          .add("x-seen-te", String.valueOf(h.get("te")))
          .add("x-seen-connection", Integer.toString(connection));
      Runnable answer = () -> {
        ctx.write(new DefaultHttp2HeadersFrame(response, false).stream(stream));
        if (frame.isEndStream()) {
          ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("hello h2", StandardCharsets.US_ASCII))
              .stream(stream));
          finish(ctx, stream);
        }
        ctx.flush();
      };
      if (path.startsWith("/stall") || path.startsWith("/hold-window") || stallsEverything) {
        return; // never answered: the stream stays open (/hold-window: see onData)
      }
      if (path.startsWith("/slow")) {
        ctx.executor().schedule(answer, 300, TimeUnit.MILLISECONDS);
      } else {
        answer.run();
      }
    }

    private void onData(ChannelHandlerContext ctx, Http2DataFrame frame) {
      Http2FrameStream stream = frame.stream();
      String path = paths.get(stream);
      if (path != null && path.startsWith("/hold-window")) {
        return; // takes the body's first window and never opens it again, answers nothing
      }
      if (frame.initialFlowControlledBytes() > 0) {
        ctx.write(new DefaultHttp2WindowUpdateFrame(frame.initialFlowControlledBytes()).stream(stream));
      }
      if (!paths.containsKey(stream)) {
        ctx.flush();
        return;
      }
      ByteBuf echo = frame.content().retainedDuplicate();
      ctx.write(new DefaultHttp2DataFrame(echo, false).stream(stream));
      if (frame.isEndStream()) {
        finish(ctx, stream);
      }
      ctx.flush();
    }

    private void finish(ChannelHandlerContext ctx, Http2FrameStream stream) {
      String path = paths.remove(stream);
      if (path != null && path.startsWith("/trailers-forbidden")) {
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("x-trailer", "yes")
            .add("content-length", "99").add("set-cookie", "s=evil").add("x-forwarded-for", "6.6.6.6")
            .add("authorization", "Bearer evil").add("host", "evil.example"), true).stream(stream));
      } else if (path != null && path.startsWith("/trailers")) {
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("x-trailer", "yes"), true)
            .stream(stream));
      } else {
        ctx.write(new DefaultHttp2DataFrame(true).stream(stream));
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
