package dev.meridian.proxy.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a real HTTP/1.1 Netty server on {@code 127.0.0.1}, port 0, whose answers a test scripts with a
 * {@link Responder}; it records every request and counts accepted connections.
 *
 * <pre>{@code
 * try (TestBackend backend = TestBackend.start(TestBackend.ok("hi"))) {
 *   ... point the proxy at backend.address() ...
 *   await().until(() -> backend.requests().size() == 1);
 * }
 * }</pre>
 *
 * <p>Connections are kept alive unless the request or the reply says {@code Connection: close} (or the
 * request is HTTP/1.0 without {@code keep-alive}). Pipelined requests are answered in order, so a
 * {@link Reply#never()} also holds back the replies queued behind it. Request bodies are aggregated up
 * to 16 MiB. The responder runs on the backend's event loop and must not block: use
 * {@link Reply#delay(Duration)} or {@link Reply#when(CompletionStage)} to answer later.
 */
public final class TestBackend implements AutoCloseable {

  /** Largest request body aggregated. */
  public static final int MAX_CONTENT_LENGTH = 16 * 1024 * 1024;

  /** Computes the reply to one received request. */
  @FunctionalInterface
  public interface Responder {
    Reply respond(Request request) throws Exception;
  }

  /**
   * One request as the backend received it.
   *
   * @param headers a copy of the request headers (names case-insensitive)
   * @param connectionId 1 for the first accepted connection, 2 for the second, ...
   */
  public record Request(String method, String uri, HttpVersion version, HttpHeaders headers, byte[] body,
      InetSocketAddress remoteAddress, int connectionId) {

    /** The first value of header {@code name}, or null. */
    public String header(String name) {
      return headers.get(name);
    }

    /** The body decoded as UTF-8. */
    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /**
   * What to do with one request: answer it (status, headers, body, optional delay), never answer it,
   * close the connection without answering, or reset the connection (SO_LINGER 0 close).
   */
  public static final class Reply {
    private enum Kind { ANSWER, NEVER, CLOSE, RESET, LATER }

    private final Kind kind;
    private final int status;
    private final List<Map.Entry<String, String>> headers;
    private final byte[] body;
    private final Duration delay;
    private final CompletionStage<Reply> later;

    private Reply(Kind kind, int status, List<Map.Entry<String, String>> headers, byte[] body, Duration delay,
        CompletionStage<Reply> later) {
      this.kind = kind;
      this.status = status;
      this.headers = headers;
      this.body = body;
      this.delay = delay;
      this.later = later;
    }

    /** An answer with {@code status}, no headers and an empty body. */
    public static Reply status(int status) {
      return new Reply(Kind.ANSWER, status, List.of(), new byte[0], Duration.ZERO, null);
    }

    /** A 200 answer with {@code body} as UTF-8 {@code text/plain}. */
    public static Reply ok(String body) {
      return status(200).header("content-type", "text/plain; charset=utf-8").body(body);
    }

    /** Leaves the request unanswered and the connection open. */
    public static Reply never() {
      return new Reply(Kind.NEVER, 0, List.of(), new byte[0], Duration.ZERO, null);
    }

    /** Closes the connection (FIN) without answering. */
    public static Reply closeConnection() {
      return new Reply(Kind.CLOSE, 0, List.of(), new byte[0], Duration.ZERO, null);
    }

    /** Resets the connection (SO_LINGER 0, then close: RST) without answering. */
    public static Reply reset() {
      return new Reply(Kind.RESET, 0, List.of(), new byte[0], Duration.ZERO, null);
    }

    /** The reply {@code stage} completes with, whenever it does; the connection's later replies wait. */
    public static Reply when(CompletionStage<Reply> stage) {
      return new Reply(Kind.LATER, 0, List.of(), new byte[0], Duration.ZERO, Objects.requireNonNull(stage));
    }

    /** This reply with a header added (an explicit content-length overrides the computed one). */
    public Reply header(String name, String value) {
      List<Map.Entry<String, String>> copy = new ArrayList<>(headers);
      copy.add(Map.entry(name, value));
      return new Reply(kind, status, List.copyOf(copy), body, delay, later);
    }

    /** This reply with {@code body} as UTF-8. */
    public Reply body(String text) {
      return body(text.getBytes(StandardCharsets.UTF_8));
    }

    /** This reply with {@code body}. */
    public Reply body(byte[] bytes) {
      return new Reply(kind, status, headers, bytes.clone(), delay, later);
    }

    /** This reply carried out after {@code delay}, timed on the event loop. */
    public Reply delay(Duration delay) {
      return new Reply(kind, status, headers, body, Objects.requireNonNull(delay), later);
    }
  }

  /** Answers 200 with {@code body} to every request. */
  public static Responder ok(String body) {
    Reply reply = Reply.ok(body);
    return request -> reply;
  }

  /** Answers {@code status} with an empty body to every request. */
  public static Responder status(int status) {
    Reply reply = Reply.status(status);
    return request -> reply;
  }

  /** Answers 200 with the request body as the response body, and the request's content-type. */
  public static Responder echo() {
    return request -> {
      Reply reply = Reply.status(200).body(request.body());
      String type = request.header("content-type");
      return type == null ? reply : reply.header("content-type", type);
    };
  }

  /** Answers 200 with the received headers as the body: one {@code name: value} line each, names lowercase. */
  public static Responder echoHeaders() {
    return request -> {
      StringBuilder text = new StringBuilder();
      for (Map.Entry<String, String> h : request.headers()) {
        text.append(h.getKey().toLowerCase(Locale.ROOT)).append(": ").append(h.getValue()).append('\n');
      }
      return Reply.ok(text.toString());
    };
  }

  /** Never answers any request. */
  public static Responder never() {
    return request -> Reply.never();
  }

  private final Responder responder;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger openConnections = new AtomicInteger();
  private volatile InetSocketAddress address;
  /** The listening channel, once bound. */
  private volatile Channel server;

  private TestBackend(Responder responder) {
    this.responder = Objects.requireNonNull(responder, "responder");
  }

  /** Starts a backend on {@code 127.0.0.1}, port 0, answering with {@code responder}. */
  public static TestBackend start(Responder responder) {
    return start(responder, 0);
  }

  /** Starts a backend on {@code 127.0.0.1:port} (0 picks a free port), answering with {@code responder}. */
  public static TestBackend start(Responder responder, int port) {
    return start(responder, "127.0.0.1", port);
  }

  /** Starts a backend on {@code host:port} ({@code 127.0.0.1} or {@code ::1}; 0 picks a free port). */
  public static TestBackend start(Responder responder, String host, int port) {
    TestBackend backend = new TestBackend(responder);
    backend.bind(host, port);
    return backend;
  }

  private void bind(String host, int port) {
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            int id = connections.incrementAndGet();
            openConnections.incrementAndGet();
            ch.closeFuture().addListener(f -> openConnections.decrementAndGet());
            channels.add(ch);
            ch.pipeline()
                .addLast("http-codec", new HttpServerCodec())
                .addLast("aggregator", new HttpObjectAggregator(MAX_CONTENT_LENGTH))
                .addLast("responder", new ResponderHandler(id));
          }
        });
    try {
      server = bootstrap.bind(host, port).sync().channel();
      address = (InetSocketAddress) server.localAddress();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new IllegalStateException("interrupted while binding the test backend", e);
    }
  }

  /** The bound port. */
  public int port() {
    return address.getPort();
  }

  /** The bound address ({@code 127.0.0.1:port}). */
  public InetSocketAddress address() {
    return address;
  }

  /** A snapshot of every request received so far, in arrival order. */
  public List<Request> requests() {
    return List.copyOf(requests);
  }

  /** The number of connections accepted so far. */
  public int connectionCount() {
    return connections.get();
  }

  /** The number of connections open now. */
  public int openConnectionCount() {
    return openConnections.get();
  }

  /**
   * Closes the listening socket, then every connection, and stops the event loop: like a killed
   * backend, it leaves no connection open.
   *
   * <p>The order matters. Once the listening channel's close completed on the loop, no connection is
   * accepted any more, and every one accepted before is in {@code channels} (the one loop accepts,
   * registers and initializes a connection in one go). Closing both at once (one
   * {@code channels.close()}) missed a connection the loop accepted after the group's channels were
   * taken and before the listener's close ran; and the loop's shutdown does not close it either
   * (Netty 4.2, quiet period 0): it stayed open, never read, and a request sent on it waited for
   * ever.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return; // closing twice must not wait on loops that already stopped
    }
    Channel listener = server;
    if (listener != null) {
      listener.close().awaitUninterruptibly();
    }
    channels.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  /** A reply waiting for its turn; connections answer in request order. */
  private static final class Slot {
    final Request request;
    final boolean keepAlive;
    Reply reply;

    Slot(Request request, boolean keepAlive) {
      this.request = request;
      this.keepAlive = keepAlive;
    }
  }

  /** Records each request of one connection, asks the responder, and writes replies in order. */
  private final class ResponderHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final int connectionId;
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    private boolean done;

    ResponderHandler(int connectionId) {
      this.connectionId = connectionId;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
      if (done) {
        return;
      }
      if (!msg.decoderResult().isSuccess()) {
        done = true;
        FullHttpResponse bad = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST);
        bad.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(bad).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      Request request = new Request(msg.method().name(), msg.uri(), msg.protocolVersion(),
          new DefaultHttpHeaders().set(msg.headers()), ByteBufUtil.getBytes(msg.content()),
          (InetSocketAddress) ctx.channel().remoteAddress(), connectionId);
      requests.add(request);
      Slot slot = new Slot(request, HttpUtil.isKeepAlive(msg));
      slots.add(slot);
      Reply reply;
      try {
        reply = responder.respond(request);
      } catch (Exception e) {
        reply = Reply.status(500).body("responder threw " + e + "\n");
      }
      fill(ctx, slot, reply);
    }

    private void fill(ChannelHandlerContext ctx, Slot slot, Reply reply) {
      if (reply.kind == Reply.Kind.LATER) {
        reply.later.whenComplete((next, error) -> ctx.executor().execute(() ->
            fill(ctx, slot, error == null ? next : Reply.status(500).body("reply failed: " + error + "\n"))));
      } else if (!reply.delay.isZero()) {
        Reply now = reply.delay(Duration.ZERO);
        ctx.executor().schedule(() -> fill(ctx, slot, now), reply.delay.toNanos(), TimeUnit.NANOSECONDS);
      } else {
        slot.reply = reply;
        writeReady(ctx);
      }
    }

    private void writeReady(ChannelHandlerContext ctx) {
      boolean wrote = false;
      while (!done && !slots.isEmpty() && slots.peek().reply != null) {
        Slot slot = slots.poll();
        Reply reply = slot.reply;
        switch (reply.kind) {
          case NEVER -> {
            slots.addFirst(slot);
            return;
          }
          case CLOSE -> {
            done = true;
            ctx.flush();
            ctx.close();
          }
          case RESET -> {
            done = true;
            ctx.flush();
            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            ctx.close();
          }
          default -> {
            FullHttpResponse response = toResponse(slot, reply);
            if (HttpUtil.isKeepAlive(response)) {
              ctx.write(response);
              wrote = true;
            } else {
              done = true;
              ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
          }
        }
      }
      if (wrote && !done) {
        ctx.flush();
      }
    }

    private FullHttpResponse toResponse(Slot slot, Reply reply) {
      HttpResponseStatus status = HttpResponseStatus.valueOf(reply.status);
      boolean noBody = HttpMethod.HEAD.name().equals(slot.request.method())
          || reply.status == 204 || reply.status == 304 || reply.status < 200;
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          noBody ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(reply.body));
      if (reply.status != 204 && reply.status != 304 && reply.status >= 200) {
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body.length);
      }
      for (Map.Entry<String, String> h : reply.headers) {
        if (HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(h.getKey())) {
          response.headers().set(h.getKey(), h.getValue());
        } else {
          response.headers().add(h.getKey(), h.getValue());
        }
      }
      if (!slot.keepAlive) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      } else if (slot.request.version().equals(HttpVersion.HTTP_1_0)
          && !response.headers().contains(HttpHeaderNames.CONNECTION)) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      return response;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      done = true;
      slots.clear();
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
