package dev.meridian.proxy.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.EventExecutor;

/**
 * The dashboard's live feed, {@code /admin/api/stream}: Server-Sent Events, one {@code snapshot}
 * event a second carrying the {@link DashboardSnapshot} JSON to every open stream. A stream whose
 * client does not keep up (its socket buffer is full) skips events rather than queueing them.
 *
 * <p>Used on the admin event loop only.
 */
final class DashboardStream {
  private final ChannelGroup subscribers;

  DashboardStream(EventExecutor executor) {
    this.subscribers = new DefaultChannelGroup("dashboard-streams", executor);
  }

  /** Answers a stream request: the event-stream head now, events from the next tick on. */
  void open(ChannelHandlerContext ctx, String firstEvent) {
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
        .set(HttpHeaderNames.DATE, dev.meridian.proxy.http.HttpDate.now())
        .set("X-Content-Type-Options", "nosniff").set("X-Frame-Options", "DENY");
    HttpUtil.setTransferEncodingChunked(head, true);
    ctx.write(head);
    ctx.writeAndFlush(new DefaultHttpContent(event(ctx.channel(), firstEvent)));
    subscribers.add(ctx.channel());
  }

  /** Whether anyone is watching. */
  boolean isWatched() {
    return !subscribers.isEmpty();
  }

  /** Sends one snapshot to every stream that can take it. */
  void publish(String json) {
    if (subscribers.isEmpty()) {
      return;
    }
    ByteBuf shared = event(null, json);
    try {
      for (Channel ch : subscribers) {
        if (ch.isWritable()) {
          ch.writeAndFlush(new DefaultHttpContent(shared.retainedDuplicate()));
        }
      }
    } finally {
      shared.release();
    }
  }

  private static ByteBuf event(Channel ch, String json) {
    String text = "event: snapshot\ndata: " + json + "\n\n";
    return ByteBufUtil.writeUtf8(ch == null ? PooledByteBufAllocator.DEFAULT : ch.alloc(), text);
  }

  /** Closes every stream. */
  void close() {
    subscribers.close().awaitUninterruptibly();
  }
}
