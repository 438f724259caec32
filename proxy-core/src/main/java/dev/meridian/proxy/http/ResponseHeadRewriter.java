package dev.meridian.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

/**
 * Turns a backend's response head into the head Meridian sends to its client: hop-by-hop headers
 * removed, Via and the request id added, and framing restated for the client's connection.
 */
public final class ResponseHeadRewriter {
  private final HeaderSettings settings;
  private final AsciiString requestIdHeader;

  /** Creates a rewriter adding the headers the settings ask for. */
  public ResponseHeadRewriter(HeaderSettings settings) {
    this.settings = settings;
    this.requestIdHeader = AsciiString.of(settings.requestIdHeader());
  }

  /**
   * Rewrites the head in place.
   *
   * @param response      the backend's response head
   * @param clientVersion the HTTP version the client spoke
   * @param requestId     the request's id, echoed to the client
   * @param keepAlive     whether the client connection stays open after this response
   * @param switching     the response is a 101 that switches protocols
   * @return whether the body must be delimited by closing the connection (HTTP/1.0 client, unknown
   *     length)
   */
  public boolean rewrite(HttpResponse response, HttpVersion clientVersion, CharSequence requestId,
      boolean keepAlive, boolean switching) {
    HttpHeaders headers = response.headers();
    boolean chunked = HttpUtil.isTransferEncodingChunked(response);
    boolean hasLength = headers.contains(HttpHeaderNames.CONTENT_LENGTH);
    HttpVersion backendVersion = response.protocolVersion();
    HopByHopHeaders.strip(headers, switching);
    if (!settings.via().isEmpty()) {
      ViaHeader.append(headers, backendVersion, settings.via());
    }
    headers.set(requestIdHeader, requestId);
    response.setProtocolVersion(clientVersion);
    if (switching) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
      return false;
    }
    boolean neverABody = response.status().codeClass() == HttpStatusClass.INFORMATIONAL
        || response.status().equals(HttpResponseStatus.NO_CONTENT);
    if (neverABody && (hasLength || chunked)) {
      // RFC 9110 section 8.6 and 9112 section 6.1: a 1xx or 204 carries neither field. A backend's
      // stray one would make an HTTP/2 client refuse the stream (nghttp2: a content-length with no body).
      headers.remove(HttpHeaderNames.CONTENT_LENGTH);
      headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
      hasLength = false;
      chunked = false;
    }
    boolean bodyless = neverABody || response.status().equals(HttpResponseStatus.NOT_MODIFIED);
    boolean closeDelimited = false;
    if (!hasLength && !bodyless) {
      if (clientVersion.equals(HttpVersion.HTTP_1_1)) {
        headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      } else {
        closeDelimited = true;
      }
    } else if (chunked && hasLength) {
      headers.remove(HttpHeaderNames.CONTENT_LENGTH);
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    if (response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
      HttpUtil.setKeepAlive(headers, clientVersion, keepAlive && !closeDelimited);
    }
    return closeDelimited;
  }
}
