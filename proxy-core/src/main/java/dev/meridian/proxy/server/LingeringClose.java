package dev.meridian.proxy.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes an HTTP/1 connection whose client may still be sending (Meridian answered before the
 * request ended: 413, 431, 400, 408) so that the client reads the answer rather than a reset: the
 * answer flushed, Meridian's side is shut (TLS close_notify, then FIN), and what the client still
 * sends is read and dropped until it closes its side, {@value #MAX_BYTES} bytes have been dropped, or
 * {@value #MAX_MILLIS} ms have passed. Closing at once would make the kernel answer the unread bytes
 * with a reset, which can destroy the answer before the client reads it (nginx's lingering close).
 */
final class LingeringClose extends ChannelInboundHandlerAdapter {
  static final long MAX_BYTES = 1 << 20;
  static final long MAX_MILLIS = 5_000;

  private long dropped;
  private ScheduledFuture<?> deadline;

  private LingeringClose() {}

  /** Flushes what was written, then closes the connection lingering. */
  static void closeAfterWrites(Channel channel) {
    channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(flushed -> {
      if (!flushed.isSuccess() || !channel.isActive() || !(channel instanceof DuplexChannel duplex)) {
        channel.close();
        return;
      }
      channel.pipeline().addFirst("linger", new LingeringClose());
      SslHandler ssl = channel.pipeline().get(SslHandler.class);
      if (ssl != null) {
        ssl.closeOutbound().addListener(sent -> duplex.shutdownOutput());
      } else {
        duplex.shutdownOutput();
      }
      channel.config().setAutoRead(true);
    });
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    deadline = ctx.executor().schedule(() -> {
      ctx.close();
    }, MAX_MILLIS, TimeUnit.MILLISECONDS);
    ctx.channel().closeFuture().addListener((ChannelFutureListener) f -> deadline.cancel(false));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof io.netty.buffer.ByteBuf bytes) {
      dropped += bytes.readableBytes();
    }
    ReferenceCountUtil.release(msg);
    if (dropped > MAX_BYTES) {
      ctx.close();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    ReferenceCountUtil.release(evt);
    if (evt instanceof ChannelInputShutdownEvent) {
      ctx.close(); // the client finished sending
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
