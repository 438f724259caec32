package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.TestBackend;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/2 request whose DATA disagrees with its content-length is reset and never reaches a
 * backend complete: the part that completes the declared length waits for END_STREAM. Driven by a
 * Netty HTTP/2 client that sends exactly the frames given.
 */
class Http2ContentLengthTest {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** Sends a POST with the given content-length and DATA frames (the last one ends the stream); returns "reset CODE" or "status N". */
  private String send(ForwardingProxy proxy, int contentLength, List<String> data) throws Exception {
    Channel connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
          }
        }).connect(proxy.address()).sync().channel();
    CompletableFuture<String> outcome = new CompletableFuture<>();
    Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame headers && headers.headers().status() != null) {
              outcome.complete("status " + headers.headers().status());
            }
            ReferenceCountUtil.release(msg);
          }

          @Override
          public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame reset) {
              outcome.complete("reset " + Http2Error.valueOf(reset.errorCode()));
            }
            ReferenceCountUtil.release(evt);
          }

          @Override
          public void channelInactive(ChannelHandlerContext ctx) {
            outcome.complete("closed");
          }
        }).open().sync().getNow();
    stream.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").scheme("http")
        .path("/upload").authority("app.test").setInt("content-length", contentLength), false));
    for (int i = 0; i < data.size(); i++) {
      boolean last = i == data.size() - 1;
      stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(data.get(i), StandardCharsets.US_ASCII),
          last));
      if (!last) {
        // Nothing may answer while the stream is open: the backend must not have the request whole.
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(2)).until(() -> !outcome.isDone());
      }
    }
    try {
      return outcome.get(10, TimeUnit.SECONDS);
    } finally {
      connection.close().sync();
    }
  }

  @Test
  void moreDataThanDeclaredIsResetAndNeverCompletesAtTheBackend() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echo());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      // The first frame alone matches content-length 5 (an HTTP/1.1 backend would take it as the
      // whole request and answer); the second one makes the body too long.
      assertThat(send(proxy, 5, List.of("hello", "world"))).isEqualTo("reset PROTOCOL_ERROR");
      assertThat(send(proxy, 5, List.of("hel", "lo"))).isEqualTo("status 200");
      assertThat(backend.requests()).extracting(r -> new String(r.body(), StandardCharsets.US_ASCII))
          .containsExactly("hello");
    }
  }

  @Test
  void lessDataThanDeclaredIsResetAndNeverCompletesAtTheBackend() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echo());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      assertThat(send(proxy, 10, List.of("hello"))).isEqualTo("reset PROTOCOL_ERROR");
      assertThat(send(proxy, 3, List.of("abc"))).isEqualTo("status 200");
      assertThat(backend.requests()).extracting(r -> new String(r.body(), StandardCharsets.US_ASCII))
          .containsExactly("abc");
    }
  }
}
