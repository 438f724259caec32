package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.List;

/**
 * The backend-facing HTTP/1.1 codec: requests out, responses in. A {@link RawRequest}'s kept field
 * lines are written as the bytes that arrived (see {@link RawHeaders#writeTo}); any other request is
 * encoded from its headers. Responses to HEAD requests are read without a body.
 *
 * <p>Used on one upstream connection's event loop.
 */
public final class UpstreamHttpCodec extends CombinedChannelDuplexHandler<HttpResponseDecoder, HttpRequestEncoder> {

  /** Creates the codec; the decoder reads responses with the given limits. */
  public UpstreamHttpCodec(HttpDecoderConfig responseLimits) {
    MethodQueue methods = new MethodQueue();
    init(new ResponseDecoder(responseLimits, methods), new RequestEncoder(methods));
  }

  /** Encodes requests, noting each method for the decoder. */
  private static final class RequestEncoder extends HttpRequestEncoder {
    private final MethodQueue methods;

    RequestEncoder(MethodQueue methods) {
      this.methods = methods;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
      if (msg instanceof HttpRequest request) {
        methods.add(request.method());
      }
      super.encode(ctx, msg, out);
    }

    @Override
    protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
      if (headers instanceof RawHeaders raw) {
        raw.writeTo(buf);
      } else {
        super.encodeHeaders(headers, buf);
      }
    }
  }

  /** Decodes responses; one that answers a HEAD request has no body whatever its headers say. */
  private static final class ResponseDecoder extends HttpResponseDecoder {
    private final MethodQueue methods;

    ResponseDecoder(HttpDecoderConfig config, MethodQueue methods) {
      super(config);
      this.methods = methods;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      if (((HttpResponse) msg).status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        // An interim response answers no request by itself: the final one follows.
        return super.isContentAlwaysEmpty(msg);
      }
      HttpMethod method = methods.poll();
      return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
    }
  }
}
