package dev.meridian.proxy.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
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
}
