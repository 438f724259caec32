package dev.meridian.proxy.http1;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A head read in place and its whole body as one message ({@link WholeRequest}, {@link WholeResponse}):
 * what both pass on to the head. There are no trailers: a chunked message is never whole.
 */
abstract class WholeMessage implements FullHttpMessage {
  private final RawMessage head;

  WholeMessage(RawMessage head) {
    this.head = head;
  }

  @Override
  public final RawHeaders headers() {
    return head.headers();
  }

  @Override
  public final HttpHeaders trailingHeaders() {
    return EmptyHttpHeaders.INSTANCE;
  }

  @Override
  public final HttpVersion protocolVersion() {
    return head.protocolVersion();
  }

  @Override
  @Deprecated
  public final HttpVersion getProtocolVersion() {
    return head.protocolVersion();
  }

  @Override
  public WholeMessage setProtocolVersion(HttpVersion version) {
    head.setProtocolVersion(version);
    return this;
  }

  @Override
  public final DecoderResult decoderResult() {
    return head.decoderResult();
  }

  @Override
  @Deprecated
  public final DecoderResult getDecoderResult() {
    return head.decoderResult();
  }

  @Override
  public final void setDecoderResult(DecoderResult result) {
    head.setDecoderResult(result);
  }
}
