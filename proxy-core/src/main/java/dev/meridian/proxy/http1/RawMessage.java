package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCounted;

/**
 * An HTTP/1.1 head kept as the bytes that arrived, with its fields read in place ({@link RawHeaders}):
 * what {@link RawRequest} and {@link RawResponse} share.
 *
 * <p>Reference-counted through the head's buffer: the decoder hands it on with one reference, each
 * write consumes one (take another with {@link #retain()} before writing a head that may be sent
 * again), and whoever holds it last releases it.
 */
public abstract class RawMessage implements HttpMessage, ReferenceCounted {
  private final ByteBuf head;
  private final RawHeaders headers;
  private HttpVersion version;
  private DecoderResult decoderResult = DecoderResult.SUCCESS;

  RawMessage(ByteBuf head, HttpVersion version, RawHeaders headers) {
    this.head = head;
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

  @Override
  public int refCnt() {
    return head.refCnt();
  }

  @Override
  public RawMessage retain() {
    head.retain();
    return this;
  }

  @Override
  public RawMessage retain(int increment) {
    head.retain(increment);
    return this;
  }

  @Override
  public RawMessage touch() {
    head.touch();
    return this;
  }

  @Override
  public RawMessage touch(Object hint) {
    head.touch(hint);
    return this;
  }

  @Override
  public boolean release() {
    return head.release();
  }

  @Override
  public boolean release(int decrement) {
    return head.release(decrement);
  }
}
