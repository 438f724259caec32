package dev.meridian.proxy.http1;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A backend's HTTP/1.1 response head kept as the bytes that arrived (see {@link RawMessage}): the
 * status line's parts and the fields read in place. It is an {@link HttpResponse}, so the proxy
 * rewrites it like any, and the client-facing encoder writes its kept field lines as they came.
 */
public final class RawResponse extends RawMessage implements HttpResponse {
  private final long contentLength;
  private final boolean chunked;
  private HttpResponseStatus status;

  RawResponse(HttpVersion version, HttpResponseStatus status, RawHeaders headers,
      long contentLength, boolean chunked) {
    super(version, headers);
    this.status = status;
    this.contentLength = contentLength;
    this.chunked = chunked;
  }

  /** The body's length from Content-Length, or -1 when there is none. */
  long contentLength() {
    return contentLength;
  }

  /**
   * Whether the body is chunked: the response has a Transfer-Encoding, which the parser lets through
   * only as exactly {@code chunked} (and never with a Content-Length).
   */
  boolean isChunked() {
    return chunked;
  }

  @Override
  public HttpResponseStatus status() {
    return status;
  }

  @Override
  @Deprecated
  public HttpResponseStatus getStatus() {
    return status;
  }

  @Override
  public HttpResponse setStatus(HttpResponseStatus status) {
    this.status = status;
    return this;
  }

  @Override
  public HttpResponse setProtocolVersion(HttpVersion version) {
    super.setProtocolVersion(version);
    return this;
  }

  @Override
  public String toString() {
    return protocolVersion() + " " + status;
  }
}
