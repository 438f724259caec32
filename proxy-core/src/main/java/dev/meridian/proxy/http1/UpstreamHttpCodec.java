package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import java.util.List;

/**
 * The backend-facing HTTP/1.1 codec: requests out, responses in. A {@link RawRequest}'s request
 * line and kept field lines are written as the bytes that arrived (see {@link RawRequest#writeLine}
 * and {@link RawHeaders#writeTo}), and a
 * {@link WholeRequest} as one buffer; any other request is encoded from its headers. Responses are
 * read in place by {@link Http1ResponseDecoder}, which learns from the requests written which
 * responses answer HEAD, and that a byte arriving when every request written has its response is
 * the backend speaking unasked (the connection is then unusable).
 *
 * <p>Used on one upstream connection's event loop.
 */
public final class UpstreamHttpCodec extends CombinedChannelDuplexHandler<Http1ResponseDecoder, HttpRequestEncoder> {
  /** Most header fields in one response head. */
  private static final int MAX_RESPONSE_FIELDS = 256;

  /**
   * Creates the codec.
   *
   * @param maxStatusLine  longest status line of a response, in bytes
   * @param maxHeaderBytes largest header section of a response, in bytes
   */
  public UpstreamHttpCodec(int maxStatusLine, int maxHeaderBytes) {
    MethodQueue methods = new MethodQueue();
    init(new Http1ResponseDecoder(maxStatusLine, maxHeaderBytes, MAX_RESPONSE_FIELDS, methods::poll,
            () -> !methods.isEmpty()),
        new RequestEncoder(methods));
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
    protected void encodeInitialLine(ByteBuf buf, HttpRequest request) throws Exception {
      RawRequest raw = request instanceof WholeRequest whole ? whole.head()
          : request instanceof RawRequest head ? head : null;
      if (raw != null) {
        raw.writeLine(buf);
      } else {
        super.encodeInitialLine(buf, request);
      }
    }

    @Override
    protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
      if (!RawHeaders.writeIfRaw(headers, buf)) {
        super.encodeHeaders(headers, buf);
      }
    }
  }
}
