package dev.meridian.proxy.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.util.List;

/**
 * Translates one upstream HTTP/2 stream to the HTTP/1.1 messages the forwarding core speaks: the
 * request as HEADERS and DATA frames, the response (and its trailers) back as messages. Header names
 * and values are validated both ways; the translation's own {@code x-http2-*} headers never reach a
 * client.
 */
final class UpstreamHttp2StreamCodec extends Http2StreamFrameToHttpObjectCodec {

  UpstreamHttp2StreamCodec() {
    super(false, true);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, HttpObject obj, List<Object> out) throws Exception {
    if (obj instanceof HttpRequest request) {
      // Connection options belong to HTTP/1.1 (the rewriter names TE there); translated, they would
      // also remove the headers they name, and HTTP/2 keeps "te: trailers".
      request.headers().remove(HttpHeaderNames.CONNECTION);
    }
    super.encode(ctx, obj, out);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, Http2StreamFrame frame, List<Object> out) throws Exception {
    if (frame instanceof Http2HeadersFrame headers && headers.headers().status() != null
        && !isStatusCode(headers.headers().status())) {
      // Netty would take any integer ("2000", "0", "200 OK"): a client must never see one.
      throw Http2Exception.streamError(headers.stream().id(), Http2Error.PROTOCOL_ERROR,
          "malformed :status '%s' (expected: three digits, 100 to 599)", headers.headers().status());
    }
    int before = out.size();
    super.decode(ctx, frame, out);
    for (int i = before; i < out.size(); i++) {
      if (out.get(i) instanceof HttpResponse response) {
        for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
          response.headers().remove(name.text());
        }
      }
    }
  }

  /** Whether a {@code :status} is a status code: exactly three digits, 100 to 599 (RFC 9110 section 15). */
  static boolean isStatusCode(CharSequence status) {
    return status.length() == 3 && status.charAt(0) >= '1' && status.charAt(0) <= '5'
        && Character.isDigit(status.charAt(1)) && status.charAt(1) < 128
        && Character.isDigit(status.charAt(2)) && status.charAt(2) < 128;
  }
}
