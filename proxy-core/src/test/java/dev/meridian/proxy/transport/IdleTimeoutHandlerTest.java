package dev.meridian.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class IdleTimeoutHandlerTest {
  private final List<Object> events = new ArrayList<>();
  private final List<ChannelPromise> promisesSeen = new ArrayList<>();
  private EmbeddedChannel channel;

  private EmbeddedChannel channelWith(long timeoutMillis) {
    channel = new EmbeddedChannel(
        new ChannelOutboundHandlerAdapter() {
          @Override
          public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            promisesSeen.add(promise);
            ctx.write(msg, promise);
          }
        },
        new IdleTimeoutHandler(timeoutMillis, TimeUnit.MILLISECONDS),
        new ChannelInboundHandlerAdapter() {
          @Override
          public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            events.add(evt);
          }
        });
    return channel;
  }

  private void advance(long millis) {
    channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
  }

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  @Test
  void firesAfterTheTimeoutWithoutActivityAndNotBefore() {
    channelWith(1000);
    advance(750);
    assertThat(events).isEmpty();
    advance(250);
    assertThat(events).containsExactly(IdleStateEvent.ALL_IDLE_STATE_EVENT);
  }

  @Test
  void firesAgainAfterEachFurtherTimeoutWhileIdle() {
    channelWith(1000);
    for (int i = 0; i < 8; i++) {
      advance(250);
    }
    assertThat(events).hasSize(2);
  }

  @Test
  void readsKeepTheConnectionAlive() {
    channelWith(1000);
    for (int i = 0; i < 20; i++) {
      channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {1}));
      assertThat(channel.releaseInbound()).isTrue();
      advance(250);
    }
    assertThat(events).isEmpty();
    // Then silence: idle between 1x and 1.25x the timeout after the last read.
    advance(750);
    assertThat(events).isEmpty();
    advance(500);
    assertThat(events).hasSize(1);
  }

  @Test
  void writesKeepTheConnectionAliveAndVoidPromisesStayVoid() {
    channelWith(1000);
    for (int i = 0; i < 20; i++) {
      channel.writeOneOutbound(Unpooled.wrappedBuffer(new byte[] {1}), channel.voidPromise());
      channel.flushOutbound();
      advance(250);
    }
    assertThat(events).isEmpty();
    assertThat(promisesSeen).hasSize(20).allMatch(ChannelPromise::isVoid);
    channel.releaseOutbound();
  }

  @Test
  void aZeroTimeoutNeverFires() {
    channelWith(0);
    advance(10_000);
    assertThat(events).isEmpty();
  }

  @Test
  void stopsWhenRemoved() {
    channelWith(1000);
    channel.pipeline().remove(IdleTimeoutHandler.class);
    advance(5000);
    assertThat(events).isEmpty();
  }
}
