package dev.meridian.proxy.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Serves HTTP/1.1 on one socket as a simulated regional app server for {@code meridian demo}: every
 * request is answered {@code 200 hello from <region> (added latency <n>ms)} after the configured
 * added latency, with an {@code X-Region} header.
 *
 * <p>{@code /healthz} answers {@code 200 ok} without the added latency. The latency is a timer on the
 * connection's event loop, never a sleep. Responses echo the request's {@code X-Request-Id}. Connections
 * are kept alive unless the client asks otherwise ({@code Connection: close}, or HTTP/1.0 without
 * {@code keep-alive}); pipelined requests are answered in order. Request bodies (aggregated up to 1 MiB)
 * are ignored.
 *
 * <p>The event loop group is the caller's: {@link #close()} closes this server's channels and leaves
 * the group running.
 */
public final class SimulatedRegionBackend implements AutoCloseable {

  /** Largest request body accepted; larger requests get 413 from the aggregator. */
  static final int MAX_CONTENT_LENGTH = 1024 * 1024;

  private static final String REQUEST_ID = "X-Request-Id";
  private static final String REGION = "X-Region";

  private final String region;
  private final Duration addedLatency;
  private final EventLoopGroup group;
  private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  /**
   * Creates a backend for {@code region} that delays each answer by {@code addedLatency} (zero for none)
   * and runs on {@code group}, typically a {@code MultiThreadIoEventLoopGroup} with
   * {@code NioIoHandler.newFactory()}.
   */
  public SimulatedRegionBackend(String region, Duration addedLatency, EventLoopGroup group) {
    this.region = Objects.requireNonNull(region, "region");
    this.addedLatency = Objects.requireNonNull(addedLatency, "addedLatency");
    this.group = Objects.requireNonNull(group, "group");
    if (addedLatency.isNegative()) {
      throw new IllegalArgumentException("addedLatency: " + addedLatency + " (expected: >= 0)");
    }
  }

  /** The region this backend answers for. */
  public String region() {
    return region;
  }

  /** The delay added before each answer except {@code /healthz}. */
  public Duration addedLatency() {
    return addedLatency;
  }

  /**
   * Binds {@code host:port} (port 0 picks a free port) and starts answering.
   *
   * @return the bound address
   * @throws InterruptedException if interrupted while binding
   */
  public InetSocketAddress start(String host, int port) throws InterruptedException {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
    }
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            channels.add(ch);
            ch.pipeline()
                .addLast("http-codec", new HttpServerCodec())
                .addLast("aggregator", new HttpObjectAggregator(MAX_CONTENT_LENGTH))
                .addLast("region-responder", new RegionResponder());
          }
        });
    Channel server = bootstrap.bind(host, port).sync().channel();
    channels.add(server);
    return (InetSocketAddress) server.localAddress();
  }

  /** Closes the listening socket and every open connection; the event loop group keeps running. */
  @Override
  public void close() {
    channels.close().awaitUninterruptibly();
  }

  /** One answer waiting for its turn: connections answer in request order. */
  private static final class PendingAnswer {
    final HttpResponseStatus status;
    final String body;
    final String requestId;
    final boolean head;
    final boolean keepAlive;
    final boolean http10;
    boolean ready;

    PendingAnswer(HttpResponseStatus status, String body, FullHttpRequest request) {
      this.status = status;
      this.body = body;
      this.requestId = request.headers().get(REQUEST_ID);
      this.head = HttpMethod.HEAD.equals(request.method());
      this.keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
      this.http10 = HttpVersion.HTTP_1_0.equals(request.protocolVersion());
    }
  }

  /** Answers each request of one connection, after the added latency, in the order they arrived. */
  private final class RegionResponder extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final ArrayDeque<PendingAnswer> queue = new ArrayDeque<>();
    private boolean closing;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      if (closing) {
        return;
      }
      if (!request.decoderResult().isSuccess()) {
        enqueueReady(ctx, new PendingAnswer(HttpResponseStatus.BAD_REQUEST, "bad request\n", request));
        return;
      }
      String path = new QueryStringDecoder(request.uri()).path();
      if ("/healthz".equals(path)) {
        enqueueReady(ctx, new PendingAnswer(HttpResponseStatus.OK, "ok", request));
        return;
      }
      String body = "hello from " + region + " (added latency " + addedLatency.toMillis() + "ms)\n";
      PendingAnswer answer = new PendingAnswer(HttpResponseStatus.OK, body, request);
      queue.add(answer);
      if (addedLatency.isZero()) {
        answer.ready = true;
        writeReady(ctx);
      } else {
        ctx.executor().schedule(() -> {
          answer.ready = true;
          writeReady(ctx);
        }, addedLatency.toNanos(), TimeUnit.NANOSECONDS);
      }
    }

    private void enqueueReady(ChannelHandlerContext ctx, PendingAnswer answer) {
      answer.ready = true;
      queue.add(answer);
      writeReady(ctx);
    }

    /** Writes the answers at the head of the queue that are ready; stops at the first that is not. */
    private void writeReady(ChannelHandlerContext ctx) {
      boolean wrote = false;
      while (!closing && !queue.isEmpty() && queue.peek().ready && ctx.channel().isActive()) {
        PendingAnswer answer = queue.poll();
        wrote = true;
        if (answer.keepAlive) {
          ctx.write(toResponse(answer));
        } else {
          closing = true;
          queue.clear();
          ctx.writeAndFlush(toResponse(answer)).addListener(ChannelFutureListener.CLOSE);
        }
      }
      if (wrote && !closing) {
        ctx.flush();
      }
    }

    private FullHttpResponse toResponse(PendingAnswer answer) {
      byte[] bytes = answer.body.getBytes(StandardCharsets.UTF_8);
      ByteBuf content = answer.head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes);
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, answer.status, content);
      response.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
          .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
          .set(REGION, region);
      if (answer.requestId != null) {
        response.headers().set(REQUEST_ID, answer.requestId);
      }
      if (!answer.keepAlive) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      } else if (answer.http10) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      return response;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      queue.clear();
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
