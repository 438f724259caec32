package dev.meridian.proxy.upstream;

import dev.meridian.proxy.http1.TrailerFields;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.LastHttpContent;
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
 * client; trailers are filtered as an HTTP/1.1 backend's are ({@link TrailerFields}), and the content
 * of an answer that may have none (to a HEAD, a 204, a 304) is dropped, as an HTTP/1.1 backend's is.
 */
final class UpstreamHttp2StreamCodec extends Http2StreamFrameToHttpObjectCodec {
  /** The stream's request is a HEAD. */
  private boolean headRequest;
  /** The final response may have no content: the request was a HEAD, or it is a 204 or 304. */
  private boolean bodiless;

  UpstreamHttp2StreamCodec() {
    super(false, true);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, HttpObject obj, List<Object> out) throws Exception {
    if (obj instanceof HttpRequest request) {
      // Connection options belong to HTTP/1.1 (the rewriter names TE there); translated, they would
      // also remove the headers they name, and HTTP/2 keeps "te: trailers".
      request.headers().remove(HttpHeaderNames.CONNECTION);
      headRequest = HttpMethod.HEAD.equals(request.method());
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
      Object message = out.get(i);
      if (message instanceof HttpResponse response) {
        for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
          response.headers().remove(name.text());
        }
        int status = response.status().code();
        if (status >= 200) {
          bodiless = headRequest || status == 204 || status == 304;
        }
      } else if (message instanceof HttpContent content) {
        if (content instanceof LastHttpContent last) {
          // Trailers as the HTTP/1.1 path filters them: no framing, routing or credential fields.
          TrailerFields.dropFrom(last.trailingHeaders());
        }
        if (bodiless && content.content().isReadable()) {
          // A HEAD, 204 or 304 answer has no content (RFC 9113 section 8.1.1: DATA on one is
          // malformed): its bytes are dropped, as the HTTP/1.1 path drops them, and its end kept.
          out.set(i, content instanceof LastHttpContent last ? last.replace(Unpooled.EMPTY_BUFFER)
              : new DefaultHttpContent(Unpooled.EMPTY_BUFFER));
          content.release();
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
