package dev.meridian.proxy.upstream;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Joins the head of a request without a body to its empty end, so an HTTP/2 backend gets one HEADERS
 * frame that ends the stream (as browsers and curl send a GET) rather than HEADERS and an empty DATA
 * frame. Anything else passes unchanged.
 *
 * <p>Used only on its stream's event loop.
 */
final class BodilessRequestJoiner extends ChannelOutboundHandlerAdapter {
  private HttpRequest heldHead;
  private ChannelPromise heldPromise;

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (heldHead == null && msg instanceof HttpRequest head && !(msg instanceof HttpContent)
        && !HttpUtil.isTransferEncodingChunked(head) && HttpUtil.getContentLength(head, 0L) == 0L) {
      heldHead = head;
      heldPromise = promise;
      return;
    }
    if (heldHead != null) {
      HttpRequest head = heldHead;
      ChannelPromise headPromise = heldPromise;
      heldHead = null;
      heldPromise = null;
      if (msg instanceof LastHttpContent last && !last.content().isReadable()) {
        DefaultFullHttpRequest whole = new DefaultFullHttpRequest(head.protocolVersion(), head.method(),
            head.uri(), Unpooled.EMPTY_BUFFER, head.headers(), last.trailingHeaders());
        last.release();
        ctx.write(whole).addListener(f -> {
          if (f.isSuccess()) {
            headPromise.trySuccess();
            promise.trySuccess();
          } else {
            headPromise.tryFailure(f.cause());
            promise.tryFailure(f.cause());
          }
        });
        return;
      }
      ctx.write(head, headPromise);
    }
    ctx.write(msg, promise);
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (heldHead != null) {
      heldHead = null;
      heldPromise.tryFailure(new java.nio.channels.ClosedChannelException());
      heldPromise = null;
    }
    ctx.close(promise);
  }
}
