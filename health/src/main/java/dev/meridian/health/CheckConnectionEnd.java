package dev.meridian.health;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Fails a check whose connection (or HTTP/2 stream) closed or failed before the answer ended it: the
 * last handler of a check's pipeline, after {@link HttpCheckHandler}, and on an HTTP/2 check's
 * connection itself (a refused TLS handshake or a GOAWAY may end it before its stream has a handler).
 * A check already ended is not ended again.
 */
final class CheckConnectionEnd extends ChannelInboundHandlerAdapter {
  private final CheckAttempt attempt;

  CheckConnectionEnd(CheckAttempt attempt) {
    this.attempt = attempt;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    attempt.fail("connection closed before the response ended");
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    String message = cause.getMessage();
    attempt.fail(message == null ? cause.getClass().getSimpleName() : message);
  }
}
