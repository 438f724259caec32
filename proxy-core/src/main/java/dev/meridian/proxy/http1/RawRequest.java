package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCounted;

/**
 * An HTTP/1.1 request head kept as the bytes that arrived: the request line's parts and
 * {@link RawHeaders} read in place. It is an {@link HttpRequest}, so the proxy routes and rewrites it
 * like any, and {@link UpstreamHttpCodec} writes its kept field lines as they came.
 *
 * <p>Reference-counted through the head's buffer: the decoder hands it on with one reference, each
 * write upstream consumes one (take one with {@link #retain()} before writing when the head may be
 * sent again), and whoever holds it last releases it.
 */
public final class RawRequest implements HttpRequest, ReferenceCounted {
  private final ByteBuf head;
  private final RawHeaders headers;
  private final long contentLength;
  private final boolean chunked;
  private HttpMethod method;
  private String uri;
  private HttpVersion version;
  private DecoderResult decoderResult = DecoderResult.SUCCESS;

  RawRequest(ByteBuf head, HttpMethod method, String uri, HttpVersion version, RawHeaders headers,
      long contentLength, boolean chunked) {
    this.head = head;
    this.method = method;
    this.uri = uri;
    this.version = version;
    this.headers = headers;
    this.contentLength = contentLength;
    this.chunked = chunked;
  }

  /** The body's length from Content-Length, or -1 when there is none. */
  public long contentLength() {
    return contentLength;
  }

  /** Whether the body is chunked (Transfer-Encoding ends with chunked). */
  public boolean isChunked() {
    return chunked;
  }

  @Override
  public HttpMethod method() {
    return method;
  }

  @Override
  @Deprecated
  public HttpMethod getMethod() {
    return method;
  }

  @Override
  public HttpRequest setMethod(HttpMethod method) {
    this.method = method;
    return this;
  }

  @Override
  public String uri() {
    return uri;
  }

  @Override
  @Deprecated
  public String getUri() {
    return uri;
  }

  @Override
  public HttpRequest setUri(String uri) {
    this.uri = uri;
    return this;
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
  public HttpRequest setProtocolVersion(HttpVersion version) {
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
  public RawRequest retain() {
    head.retain();
    return this;
  }

  @Override
  public RawRequest retain(int increment) {
    head.retain(increment);
    return this;
  }

  @Override
  public RawRequest touch() {
    head.touch();
    return this;
  }

  @Override
  public RawRequest touch(Object hint) {
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

  @Override
  public String toString() {
    return method + " " + uri + " " + version;
  }
}
