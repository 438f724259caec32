package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A client's HTTP/1.1 request head kept as the bytes that arrived (see {@link RawMessage}): the request
 * line's parts and the fields read in place. It is an {@link HttpRequest}, so the proxy routes and
 * rewrites it like any, and {@link UpstreamHttpCodec} writes its kept field lines as they came.
 */
public final class RawRequest extends RawMessage implements HttpRequest {
  private final long contentLength;
  private final boolean chunked;
  /** The head's bytes; the request line, with its CR LF, is the first {@code lineBytes} of them. */
  private final byte[] head;
  private final int lineBytes;
  private HttpMethod method;
  private String uri;
  /** Method, target or version was changed since the head arrived. */
  private boolean lineEdited;

  RawRequest(HttpMethod method, String uri, HttpVersion version, RawHeaders headers,
      long contentLength, boolean chunked, byte[] head, int lineBytes) {
    super(version, headers);
    this.method = method;
    this.uri = uri;
    this.contentLength = contentLength;
    this.chunked = chunked;
    this.head = head;
    this.lineBytes = lineBytes;
  }

  /**
   * Writes the request line as it arrived, with its CR LF, when method, target and version are as
   * they came; returns false, writing nothing, when one was changed. The target's bytes go on
   * exactly as the client sent them (a {@code String} would re-encode bytes above 0x7f).
   */
  boolean writeLineIfUnchanged(ByteBuf out) {
    if (lineEdited) {
      return false;
    }
    out.writeBytes(head, 0, lineBytes);
    return true;
  }

  /** The body's length from Content-Length, or -1 when there is none. */
  public long contentLength() {
    return contentLength;
  }

  /** Whether the body is chunked. */
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
    lineEdited |= !method.equals(this.method);
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
    lineEdited |= !uri.equals(this.uri);
    this.uri = uri;
    return this;
  }

  @Override
  public HttpRequest setProtocolVersion(HttpVersion version) {
    lineEdited |= !version.equals(protocolVersion());
    super.setProtocolVersion(version);
    return this;
  }

  @Override
  public String toString() {
    return method + " " + uri + " " + protocolVersion();
  }
}
