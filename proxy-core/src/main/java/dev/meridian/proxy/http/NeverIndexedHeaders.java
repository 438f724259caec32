package dev.meridian.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.AsciiString;

/**
 * Which header fields Meridian's HTTP/2 encoders never put in the HPACK dynamic table (RFC 7541
 * section 7.1.3): they are sent as literals marked "never indexed", and a proxy further along must
 * keep them so.
 *
 * <ul>
 *   <li>Credentials ({@code Authorization}, {@code Proxy-Authorization}, {@code Cookie},
 *       {@code Set-Cookie}): on a connection that carries many users' requests (every upstream
 *       connection), an indexed secret is what a compression-oracle attack probes for.
 *   <li>The request id header: its value is new on every message, so indexing it compresses nothing,
 *       evicts entries that would have been reused (Server, Content-Type, Via), and costs a hash of
 *       the value and a table insert per response.
 * </ul>
 */
public final class NeverIndexedHeaders implements Http2HeadersEncoder.SensitivityDetector {
  private final AsciiString requestIdHeader;

  /** Never indexes the credentials and {@code requestIdHeader} (e.g. {@code X-Request-Id}). */
  public NeverIndexedHeaders(CharSequence requestIdHeader) {
    this.requestIdHeader = AsciiString.of(requestIdHeader);
  }

  @Override
  public boolean isSensitive(CharSequence name, CharSequence value) {
    // HTTP/2 field names arrive and leave in lower case; compare without case all the same, since a
    // name set by Meridian itself (the request id header) keeps the case it was configured with.
    return requestIdHeader.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.SET_COOKIE.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.COOKIE.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.AUTHORIZATION.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.PROXY_AUTHORIZATION.contentEqualsIgnoreCase(name);
  }
}
