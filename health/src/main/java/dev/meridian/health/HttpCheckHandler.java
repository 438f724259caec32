package dev.meridian.health;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads the response to one HTTP health check and ends the {@link CheckAttempt}:
 * status in range (and, if configured, the body's first 64 KiB contain the expected text) passes;
 * anything else fails; a connection that closes early is failed by the {@link CheckConnectionEnd}
 * after it.
 */
final class HttpCheckHandler extends SimpleChannelInboundHandler<HttpObject> {
  static final String NAME = "health-check";

  private final CheckAttempt attempt;
  private final ActiveCheckSettings settings;
  private ByteArrayOutputStream body;
  private int status;

  HttpCheckHandler(CheckAttempt attempt, ActiveCheckSettings settings) {
    this.attempt = attempt;
    this.settings = settings;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
    if (msg.decoderResult().isFailure()) {
      attempt.fail("bad response: " + msg.decoderResult().cause().getMessage());
      return;
    }
    if (msg instanceof HttpResponse response) {
      onHeaders(response);
    }
    if (body != null && msg instanceof HttpContent content) {
      onContent(content);
    }
  }

  private void onHeaders(HttpResponse response) {
    status = response.status().code();
    settings.replicationLagHeader().ifPresent(h -> attempt.replicationLag(response.headers().get(h)));
    if (!settings.statusPasses(status)) {
      attempt.fail("status " + status + " (expected: " + settings.statusFrom() + "-" + settings.statusTo() + ")");
    } else if (settings.bodyContains().isEmpty()) {
      attempt.pass("status " + status);
    } else {
      body = new ByteArrayOutputStream();
    }
  }

  private void onContent(HttpContent content) {
    ByteBuf buf = content.content();
    int take = Math.min(buf.readableBytes(), ActiveHealthChecker.MAX_BODY_BYTES - body.size());
    if (take > 0) {
      byte[] bytes = new byte[take];
      buf.getBytes(buf.readerIndex(), bytes);
      body.write(bytes, 0, take);
    }
    if (content instanceof LastHttpContent || body.size() >= ActiveHealthChecker.MAX_BODY_BYTES) {
      String expected = settings.bodyContains().orElseThrow();
      if (body.toString(StandardCharsets.UTF_8).contains(expected)) {
        attempt.pass("status " + status + ", body contains '" + expected + "'");
      } else {
        attempt.fail("status " + status + ", body lacks '" + expected + "'");
      }
      body = null;
    }
  }
}
