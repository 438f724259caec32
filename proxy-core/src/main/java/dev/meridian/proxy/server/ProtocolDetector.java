package dev.meridian.proxy.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Tells HTTP/2 with prior knowledge from HTTP/1.x on a cleartext listener by the first bytes of a
 * connection: the HTTP/2 connection preface ({@code PRI * HTTP/2.0...}) or anything else. It then
 * installs the matching pipeline and removes itself; bytes read so far pass on to the new handlers.
 *
 * <p>There is no h2c Upgrade from HTTP/1.1: it is a request smuggling vector, and clients that speak
 * cleartext HTTP/2 send the preface directly.
 *
 * <p>A connection still undecided when its {@link OpeningDeadline} passes (nothing sent, or part of
 * the preface), or whose client closes or idles first, is closed.
 */
final class ProtocolDetector extends ByteToMessageDecoder {
  static final String NAME = "detect";
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final Runnable installHttp1;
  private final Runnable installHttp2;
  private final OpeningDeadline deadline;

  /**
   * Creates the detector.
   *
   * @param installHttp1 adds the HTTP/1.1 handlers after this one
   * @param installHttp2 adds the HTTP/2 handlers after this one
   * @param deadline     how long the connection may take to show its protocol
   */
  ProtocolDetector(Runnable installHttp1, Runnable installHttp2, Duration deadline) {
    this.installHttp1 = installHttp1;
    this.installHttp2 = installHttp2;
    this.deadline = new OpeningDeadline(deadline);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    deadline.start(ctx);
    super.channelActive(ctx);
    ctx.read();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    deadline.cancel();
    super.channelInactive(ctx);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    deadline.cancel();
  }

  /**
   * Closes a connection that sent nothing during the drain's grace (it has asked for nothing), and
   * one that its client closed, or that idled, before it showed its protocol.
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == FrontendHandler.DrainEvent.GRACE_OVER && actualReadableBytes() == 0) {
      ctx.close();
      return;
    }
    if (deadline.closesOn(ctx, evt)) {
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int available = Math.min(in.readableBytes(), PREFACE.length);
    int start = in.readerIndex();
    for (int i = 0; i < available; i++) {
      if (in.getByte(start + i) != PREFACE[i]) {
        switchTo(ctx, installHttp1);
        return;
      }
    }
    if (available < PREFACE.length) {
      ctx.read();
      return;
    }
    switchTo(ctx, installHttp2);
  }

  private void switchTo(ChannelHandlerContext ctx, Runnable install) {
    install.run();
    ctx.pipeline().remove(this);
  }
}
