package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.testing.RawHttpClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.FullHttpRequest;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * One protocol's load does not starve the other's on a shared event loop: while h2load keeps
 * {@value #STREAMS} HTTP/2 streams busy, an HTTP/1.1 client's requests on the same (single) event loop
 * keep being forwarded, interleaved with the streams.
 *
 * <p>Counts, not times: the backend records how many HTTP/2 requests reached it between two HTTP/1.1
 * ones. Served in turn, each HTTP/1.1 request waits behind about one request of each busy stream
 * (measured: a median of 100 for 100 streams, at most 149); starved, as issue 15 once suspected (10
 * HTTP/1.1 requests a second against thousands), far more. The median gap must stay within three turns
 * of every stream: an HTTP/1.1 request held back 400 ms per request on the test's loop (a median gap of
 * 650 here, under leak detection) fails it.
 */
class ProtocolFairnessTest {
  private static final int CONNECTIONS = 2;
  private static final int STREAMS_PER_CONNECTION = 50;
  private static final int STREAMS = CONNECTIONS * STREAMS_PER_CONNECTION;
  private static final int HTTP1_REQUESTS = 100;

  @Test
  void http1RequestsKeepTheirTurnWhileHttp2StreamsKeepTheLoopBusy() throws Exception {
    assumeTrue(Http2CleartextTest.installed("h2load"), "h2load (nghttp2-client) is installed by .ci/run");
    try (CountingBackend backend = CountingBackend.start();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      Process h2load = new ProcessBuilder("h2load", "-c", Integer.toString(CONNECTIONS),
          "-m", Integer.toString(STREAMS_PER_CONNECTION), "-D", "120", proxy.url("/h2"))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> backend.http2Requests.get() >= 20L * STREAMS);

        try (RawHttpClient http1 = proxy.connect()) {
          for (int i = 0; i < HTTP1_REQUESTS; i++) {
            RawHttpClient.RawResponse response = http1.send("GET /h1/" + i + " HTTP/1.1\r\nHost: test\r\n\r\n")
                .readResponse();
            assertThat(response.status()).as("HTTP/1.1 request %d", i).isEqualTo(200);
          }
        }
        assertThat(h2load.isAlive()).as("the HTTP/2 load ran all along").isTrue();
      } finally {
        h2load.destroy();
      }
      List<Long> seen = backend.http2SeenAtEachHttp1();
      assertThat(seen).hasSize(HTTP1_REQUESTS);
      List<Long> gaps = new ArrayList<>();
      for (int i = 1; i < seen.size(); i++) {
        gaps.add(seen.get(i) - seen.get(i - 1));
      }
      Collections.sort(gaps);
      long median = gaps.get(gaps.size() / 2);
      assertThat(seen.get(seen.size() - 1) - seen.get(0)).as("HTTP/2 requests forwarded while HTTP/1.1 ran")
          .isGreaterThan(STREAMS);
      assertThat(median).as("HTTP/2 requests forwarded between two HTTP/1.1 ones (median; sorted gaps %s)", gaps)
          .isLessThanOrEqualTo(3L * STREAMS);
    }
  }

  /**
   * An HTTP/1.1 backend that answers every request at once and counts, for each request whose path
   * starts with {@code /h1/}, how many {@code /h2} requests had arrived before it.
   */
  private static final class CountingBackend implements AutoCloseable {
    final AtomicLong http2Requests = new AtomicLong();
    private final List<Long> http2SeenAtEachHttp1 = Collections.synchronizedList(new ArrayList<>());
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private Channel server;

    static CountingBackend start() throws InterruptedException {
      CountingBackend backend = new CountingBackend();
      backend.server = new ServerBootstrap().group(backend.group).channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
              ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192),
                  new SimpleChannelInboundHandler<FullHttpRequest>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                      backend.count(request);
                      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                          HttpResponseStatus.OK, Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII));
                      response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 2);
                      ctx.writeAndFlush(response);
                    }
                  });
            }
          })
          .bind("127.0.0.1", 0).sync().channel();
      return backend;
    }

    private void count(HttpRequest request) {
      if (request.uri().startsWith("/h1/")) {
        http2SeenAtEachHttp1.add(http2Requests.get());
      } else {
        http2Requests.incrementAndGet();
      }
    }

    List<Long> http2SeenAtEachHttp1() {
      return List.copyOf(http2SeenAtEachHttp1);
    }

    InetSocketAddress address() {
      return (InetSocketAddress) server.localAddress();
    }

    @Override
    public void close() {
      server.close().syncUninterruptibly();
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
