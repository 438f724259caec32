package dev.meridian.proxy.http1;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpVersion;

/**
 * An HTTP/1.1 head kept as the bytes that arrived, with its fields read in place ({@link RawHeaders}):
 * what {@link RawRequest} and {@link RawResponse} share. The bytes are the head's own array (copied
 * once from the arriving buffer, line by line as it was read), so a head holds no network buffer and
 * needs no release: it can be written again (a retry) and dropped at any time.
 */
public abstract class RawMessage implements HttpMessage {
  private final RawHeaders headers;
  private HttpVersion version;
  private DecoderResult decoderResult = DecoderResult.SUCCESS;

  RawMessage(HttpVersion version, RawHeaders headers) {
    this.version = version;
    this.headers = headers;
  }

  @Override
  public HttpVersion protocolVersion() {
    return version;
  }

  @Override
  @Deprecated
  public HttpVersion getProtocolVersion() {
    return version;
  }

  @Override
  public HttpMessage setProtocolVersion(HttpVersion version) {
    this.version = version;
    return this;
  }

  @Override
  public RawHeaders headers() {
    return headers;
  }

  @Override
  public DecoderResult decoderResult() {
    return decoderResult;
  }

  @Override
  @Deprecated
  public DecoderResult getDecoderResult() {
    return decoderResult;
  }

  @Override
  public void setDecoderResult(DecoderResult result) {
    this.decoderResult = result;
  }
}
