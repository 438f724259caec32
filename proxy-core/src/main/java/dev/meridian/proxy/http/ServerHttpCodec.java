package dev.meridian.proxy.http;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;

/**
 * The client-facing HTTP/1.1 codec: a {@link StrictRequestDecoder} with the configured limits and a
 * response encoder that knows which responses answer HEAD requests.
 *
 * <p>Decoding is strict: CR LF line endings only, header names and values validated, duplicate
 * Content-Length and Content-Length with Transfer-Encoding rejected (RFC 9112), obs-fold rejected.
 * A failed request carries its cause in its {@link io.netty.handler.codec.DecoderResult}.
 */
public final class ServerHttpCodec
    extends CombinedChannelDuplexHandler<StrictRequestDecoder, HttpResponseEncoder> {

  /** Default largest body slice handed on at once, in bytes. */
  private static final int MAX_CHUNK_SIZE = 64 * 1024;

  private final StrictRequestDecoder decoder;

  /**
   * Creates the codec.
   *
   * @param maxRequestLine longest request line in bytes
   * @param maxHeaderBytes largest header section in bytes
   * @param maxHeaderCount most header fields in one request
   */
  public ServerHttpCodec(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount) {
    MethodQueue methods = new MethodQueue();
    HttpDecoderConfig config = new HttpDecoderConfig()
        .setMaxInitialLineLength(maxRequestLine)
        .setMaxHeaderSize(maxHeaderBytes)
        .setMaxChunkSize(MAX_CHUNK_SIZE)
        .setStrictLineParsing(true)
        .setUseRfc9112TransferEncoding(true)
        .setAllowDuplicateContentLengths(false)
        .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(true))
        .setTrailersFactory(DefaultHttpHeadersFactory.trailersFactory().withValidation(true));
    this.decoder = new StrictRequestDecoder(config, maxHeaderCount, methods);
    init(decoder, new HeadAwareResponseEncoder(methods));
  }

  /** Whether part of a request head has arrived and the rest has not (for the 408 timeout). */
  public boolean hasPartialHead() {
    return decoder.hasPartialHead();
  }

  /**
   * When the first byte of the request head now arriving came (System.nanoTime), or 0 when no head
   * is partly received: the 408 deadline counts from there.
   */
  public long partialHeadSinceNanos() {
    return decoder.partialHeadSinceNanos();
  }

  /** Encodes responses; a response to HEAD, and any 1xx, 204 or 304, is written without a body. */
  private static final class HeadAwareResponseEncoder extends HttpResponseEncoder {
    private final MethodQueue methods;

    HeadAwareResponseEncoder(MethodQueue methods) {
      this.methods = methods;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        return super.isContentAlwaysEmpty(msg);
      }
      HttpMethod method = methods.poll();
      return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
    }
  }
}
