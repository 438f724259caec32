package dev.meridian.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Objects;

/**
 * Turns a client's request head into the head Meridian sends to a backend: hop-by-hop headers
 * removed first, then the proxy's own X-Forwarded-*, Forwarded, Via and request id added, so nothing a
 * client names in Connection can remove what the proxy adds.
 *
 * <p>The request always goes upstream as HTTP/1.1 on a keep-alive connection; framing is restated
 * (chunked when the client's body was chunked, Content-Length kept otherwise).
 */
public final class RequestHeadRewriter {
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  private static final AsciiString X_FORWARDED_PROTO = ForwardingHeaders.X_FORWARDED_PROTO;
  private static final AsciiString X_FORWARDED_HOST = ForwardingHeaders.X_FORWARDED_HOST;
  private static final AsciiString FORWARDED = AsciiString.cached("forwarded");

  private final HeaderSettings settings;
  private final AsciiString requestIdHeader;
  /** The fields Meridian sets on a request before this rewrite, which no Connection header removes. */
  private final AsciiString[] setHere;

  /** Creates a rewriter adding the headers the settings ask for. */
  public RequestHeadRewriter(HeaderSettings settings) {
    this.settings = settings;
    this.requestIdHeader = AsciiString.of(settings.requestIdHeader());
    this.setHere = new AsciiString[] {requestIdHeader, TraceContext.TRACEPARENT};
  }

  /** The name of the request id header, as configured. */
  public AsciiString requestIdHeader() {
    return requestIdHeader;
  }

  /**
   * Returns the request id to use: the client's when well-formed, a new one otherwise; the header is
   * set to that id.
   */
  public CharSequence assignRequestId(HttpHeaders headers) {
    String given = headers.get(requestIdHeader);
    if (given != null && RequestIds.isWellFormed(given) && headers.getAll(requestIdHeader).size() == 1) {
      return given;
    }
    CharSequence id = RequestIds.generate();
    headers.set(requestIdHeader, id);
    return id;
  }

  /**
   * Rewrites the head in place for the backend.
   *
   * @param request         the client's request head
   * @param clientIp        the client's address as text (no brackets for IPv6)
   * @param scheme          {@code http} or {@code https}, as the client spoke to Meridian
   * @param backendAuthority the backend's {@code host:port}, used when the route rewrites Host
   * @param rewriteHost     send the backend's authority as Host
   * @param upgrade         the protocol the client asks to switch to and the route allows, or null
   */
  public void rewrite(HttpRequest request, String clientIp, String scheme, String backendAuthority,
      boolean rewriteHost, String upgrade) {
    rewrite(request, clientIp, scheme, backendAuthority, rewriteHost, upgrade, new ForwardedMemo());
  }

  /**
   * Rewrites the head in place for the backend, reusing the {@code Forwarded} element of the
   * connection's previous request when its client, host and scheme are the same (see
   * {@link ForwardedMemo}); the other parameters are those of
   * {@link #rewrite(HttpRequest, String, String, String, boolean, String)}.
   */
  public void rewrite(HttpRequest request, String clientIp, String scheme, String backendAuthority,
      boolean rewriteHost, String upgrade, ForwardedMemo memo) {
    rewrite(request, clientIp, scheme, backendAuthority, rewriteHost, upgrade, memo, request.protocolVersion());
  }

  /**
   * Rewrites the head in place, naming the version the request arrived with in {@code Via}:
   * {@link ViaHeader#HTTP_2} for a request that came over an HTTP/2 stream (its head says 1.1); the
   * other parameters are those of
   * {@link #rewrite(HttpRequest, String, String, String, boolean, String, ForwardedMemo)}.
   */
  public void rewrite(HttpRequest request, String clientIp, String scheme, String backendAuthority,
      boolean rewriteHost, String upgrade, ForwardedMemo memo, HttpVersion received) {
    HttpHeaders headers = request.headers();
    boolean chunked = HttpHeaders.isTransferEncodingChunked(request);
    HttpVersion clientVersion = received;
    String clientHost = headers.get(HttpHeaderNames.HOST);

    boolean acceptsTrailers = acceptsTrailers(headers);
    HopByHopHeaders.strip(headers, upgrade != null, setHere); // a Connection header cannot drop them
    if (acceptsTrailers) {
      // The client takes trailers and Meridian relays them, so the backend may send them (gRPC
      // servers require this). TE is hop-by-hop: HTTP/1.1 names it in Connection too.
      headers.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
      if (upgrade == null) {
        headers.set(HttpHeaderNames.CONNECTION, HttpHeaderNames.TE);
      }
    }
    if (upgrade != null) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
      headers.set(HttpHeaderNames.UPGRADE, upgrade);
    }
    if (chunked) {
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    request.setProtocolVersion(HttpVersion.HTTP_1_1);

    if (settings.xForwarded()) {
      // A trusted proxy's chain may come in several lines (HAProxy's forwardfor adds one of its own
      // beside its client's): all of them go on, in order, as one list.
      String prior = forwardedChain(headers.getAll(X_FORWARDED_FOR));
      headers.set(X_FORWARDED_FOR, prior == null ? clientIp : prior + ", " + clientIp);
      // One already here is a trusted proxy's (an untrusted peer's were dropped at admission): the
      // scheme and host its client used, which a TLS-terminating load balancer in front knows and
      // Meridian does not (a backend told http builds http:// redirects for an https site).
      if (!isHttpScheme(headers.get(X_FORWARDED_PROTO))) {
        headers.set(X_FORWARDED_PROTO, scheme);
      }
      if (clientHost != null && !headers.contains(X_FORWARDED_HOST)) {
        headers.set(X_FORWARDED_HOST, clientHost);
      }
    }
    if (settings.forwarded()) {
      headers.add(FORWARDED, memo.element(clientIp, clientHost, scheme));
    }
    if (!settings.via().isEmpty()) {
      ViaHeader.append(headers, clientVersion, settings.via());
    }
    if (rewriteHost) {
      headers.set(HttpHeaderNames.HOST, backendAuthority);
    } else if (clientHost == null) {
      headers.set(HttpHeaderNames.HOST, backendAuthority);
    }
  }

  /** The X-Forwarded-For lines as one list, blank ones left out, or null when none holds anything. */
  static String forwardedChain(List<String> lines) {
    String chain = null;
    for (String line : lines) {
      if (!line.isBlank()) {
        chain = chain == null ? line.trim() : chain + ", " + line.trim();
      }
    }
    return chain;
  }

  /** Whether the request's TE header lists {@code trailers}. */
  private static boolean acceptsTrailers(HttpHeaders headers) {
    if (!headers.contains(HttpHeaderNames.TE)) {
      return false;
    }
    for (String value : headers.getAll(HttpHeaderNames.TE)) {
      for (String token : value.split(",")) {
        int params = token.indexOf(';');
        String coding = (params < 0 ? token : token.substring(0, params)).trim();
        if (HttpHeaderValues.TRAILERS.contentEqualsIgnoreCase(coding)) {
          return true;
        }
      }
    }
    return false;
  }

  /** One RFC 7239 element: {@code for=...;host=...;proto=...}, quoting where the grammar needs it. */
  static String forwardedElement(String clientIp, String host, String scheme) {
    StringBuilder sb = new StringBuilder(64);
    sb.append("for=");
    if (clientIp.indexOf(':') >= 0) {
      sb.append("\"[").append(clientIp).append("]\"");
    } else {
      sb.append(clientIp);
    }
    if (host != null && !host.isEmpty()) {
      sb.append(";host=");
      appendQuoted(sb, host);
    }
    sb.append(";proto=").append(scheme);
    return sb.toString();
  }

  /**
   * The last {@code Forwarded} element one client connection sent, kept so that its next request
   * (the same client, usually the same Host) reuses the text instead of building it again. Not
   * thread-safe: one per connection, used on its event loop.
   */
  public static final class ForwardedMemo {
    private String clientIp;
    private String host;
    private String scheme;
    private String element;

    /** The element for these values: the previous one when they are equal, else a new one. */
    String element(String clientIp, String host, String scheme) {
      if (element == null || !clientIp.equals(this.clientIp) || !Objects.equals(host, this.host)
          || !scheme.equals(this.scheme)) {
        this.clientIp = clientIp;
        this.host = host;
        this.scheme = scheme;
        this.element = forwardedElement(clientIp, host, scheme);
      }
      return element;
    }
  }

  private static void appendQuoted(StringBuilder sb, String value) {
    sb.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\');
      }
      sb.append(c);
    }
    sb.append('"');
  }

  /** Whether a forwarded scheme is {@code http} or {@code https} (any case). */
  public static boolean isHttpScheme(String value) {
    return value != null && (value.equalsIgnoreCase("http") || value.equalsIgnoreCase("https"));
  }
}
