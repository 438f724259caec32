package dev.meridian.proxy.server;

import dev.meridian.balancer.ReadYourWritesCookie;
import dev.meridian.balancer.SelectionContext;
import dev.meridian.proxy.http.ForwardingHeaders;
import dev.meridian.proxy.http.FramingLookalikes;
import dev.meridian.proxy.http.MethodOverrides;
import dev.meridian.proxy.http.TraceContext;
import dev.meridian.proxy.http1.MalformedHeadException;
import dev.meridian.proxy.http1.RawHeaders;
import dev.meridian.proxy.http1.RawRequest;
import dev.meridian.proxy.http1.TooManyHeadersException;
import dev.meridian.proxy.http1.UnsupportedTransferCodingException;
import dev.meridian.proxy.http.LogText;
import dev.meridian.proxy.routing.HostPattern;
import dev.meridian.proxy.routing.RequestTarget;
import dev.meridian.proxy.routing.Residency;
import dev.meridian.proxy.routing.Route;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a decoded request head may go to a backend, and where: the request-filter phase.
 * It checks what the decoder leaves to the proxy (Host, Transfer-Encoding, Expect, the target),
 * matches a route and settles the request id, keep-alive and protocol upgrade.
 */
final class RequestAdmission {
  private static final Logger log = LoggerFactory.getLogger(RequestAdmission.class);
  /** The names of Netty's HTTP/2 conversion fields, once ({@code values()} copies its array per call). */
  private static final AsciiString[] EXTENSION_HEADER_NAMES =
      java.util.Arrays.stream(HttpConversionUtil.ExtensionHeaderNames.values())
          .map(HttpConversionUtil.ExtensionHeaderNames::text).toArray(AsciiString[]::new);

  /** 414 with the RFC 9110 reason phrase (Netty's constant still says Request-URI Too Long). */
  static final HttpResponseStatus URI_TOO_LONG = new HttpResponseStatus(414, "URI Too Long");

  /**
   * Why a request is answered locally: the status, a one-line explanation, and the seconds the client
   * should wait before trying again (a {@code Retry-After}; 0 for none).
   */
  record Verdict(HttpResponseStatus status, String message, long retryAfterSeconds, String allow) {
    Verdict(HttpResponseStatus status, String message, long retryAfterSeconds) {
      this(status, message, retryAfterSeconds, null);
    }

    Verdict(HttpResponseStatus status, String message) {
      this(status, message, 0);
    }
  }

  private RequestAdmission() {}

  /**
   * Admits the exchange's request, which came on {@code connection}: drops what its client may not
   * claim (see {@link #stripClientClaims}), fills in its route, request id, keep-alive and upgrade.
   *
   * @return null when the request goes to a backend, else the local answer
   */
  static Verdict admit(Exchange ex, ProxyContext context, Routing routing, String clientIp,
      ConnectionMemo connection) {
    HttpRequest request = ex.request;
    HttpHeaders headers = request.headers();
    stripClientClaims(headers, connection.peerTrusted());
    ex.clientKeepAlive = HttpUtil.isKeepAlive(request) && !context.isDraining();
    boolean chunked;
    if (request instanceof RawRequest raw) {
      // The decoder already settled the framing (and refused anything but one exact 'chunked').
      chunked = raw.isChunked();
      ex.bodiless = !chunked && raw.contentLength() <= 0;
    } else {
      chunked = HttpUtil.isTransferEncodingChunked(request);
      ex.bodiless = !chunked && HttpUtil.getContentLength(request, 0L) == 0L;
    }
    RequestPolicies policies = ex.policies;
    ex.requestId = policies.requestRewriter.assignRequestId(headers);
    if (policies.settings.tracing().enabled()) {
      ex.traceparent = TraceContext.nextHop(headers, policies.settings.tracing().sampleNew());
    }

    if (policies.rateLimiter != null) {
      long wait = policies.rateLimiter.acquire(clientIp);
      if (wait > 0) {
        context.metrics.edge().requestLimited();
        long seconds = Math.max(1, (wait + 999_999_999L) / 1_000_000_000L);
        log.debug("{} {}: over limits.client-request-rate; 429, retry after {} s", ex.requestId, clientIp, seconds);
        return new Verdict(HttpResponseStatus.TOO_MANY_REQUESTS, "too many requests from this address (limits.client-request-rate)",
            seconds);
      }
    }
    Verdict bad = ex.http2 ? checkHttp2Headers(headers) : checkVersion(request);
    if (bad == null) {
      bad = checkFraming(request, chunked);
    }
    if (bad == null) {
      bad = checkHost(request, ex.http2, connection);
    }
    if (bad != null) {
      String more = context.failureLog.admittedLine("client request", "rejected");
      if (more != null) {
        log.info("{} {}: rejected request: {}{}", ex.requestId, clientIp, LogText.printable(bad.message()), more);
      }
      ex.clientKeepAlive = false;
      return bad;
    }
    if (request.method().equals(HttpMethod.CONNECT)) {
      return new Verdict(HttpResponseStatus.METHOD_NOT_ALLOWED, "CONNECT is not supported by this proxy");
    }
    long maxBody = policies.settings.limits().maxRequestBody();
    if (maxBody > 0 && !ex.bodiless) {
      long declared = request instanceof RawRequest raw ? raw.contentLength() : HttpUtil.getContentLength(request, -1L);
      if (declared > maxBody) {
        ex.clientKeepAlive = false; // the body that follows is not read as a next request
        String more = context.failureLog.admittedLine("client request", "too large");
        if (more != null) {
          log.info("{} {}: request body of {} bytes over limits.max-request-body; 413{}", ex.requestId, clientIp,
              declared, more);
        }
        return new Verdict(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
            "the request body is larger than " + maxBody + " bytes (limits.max-request-body)");
      }
    }
    String expect = headers.get(HttpHeaderNames.EXPECT);
    if (expect != null && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.trim())) {
      return new Verdict(HttpResponseStatus.EXPECTATION_FAILED, "only 'Expect: 100-continue' is supported");
    }
    ex.expectsContinue = expect != null;
    RequestTarget target = RequestTarget.parse(request.uri(), request.method().name(), policies.settings.paths());
    if (target == null) {
      ex.clientKeepAlive = false;
      String more = context.failureLog.admittedLine("client request", "target");
      if (more != null) {
        log.info("{} {}: rejected request target '{}'{}", ex.requestId, clientIp, LogText.printable(request.uri()), more);
      }
      return new Verdict(HttpResponseStatus.BAD_REQUEST,
          "request target is not an acceptable path (dot segments, backslashes, fragments and, unless"
              + " paths.encoded-slash allows them, encoded slashes are refused)");
    }
    String host = target.authority() != null ? target.authority() : headers.get(HttpHeaderNames.HOST);
    ex.host = host;
    ex.path = target.path();
    if (target.authority() != null && !HostPattern.isValidHost(target.authority())) {
      ex.clientKeepAlive = false;
      return new Verdict(HttpResponseStatus.BAD_REQUEST, "malformed authority in the request target");
    }
    if (target.authority() != null) {
      headers.set(HttpHeaderNames.HOST, target.authority());
    }
    request.setUri(target.originForm());
    String routedHost = host == null ? null : HostPattern.normalize(host);
    Verdict misdirected = MisdirectedRequests.check(routedHost, connection, context);
    if (misdirected != null) {
      String more = context.failureLog.admittedLine("client request", "misdirected");
      if (more != null) {
        log.info("{} {}: {}; 421{}", ex.requestId, clientIp, LogText.printable(misdirected.message()), more);
      }
      return misdirected;
    }
    Route route = routing.router().match(routedHost, target.path(), request.method().name());
    if (route == null) {
      // (The client's host and path are not echoed: the log and the access log have them.)
      String allow = routing.router().allowedMethods(routedHost, target.path());
      if (allow != null) {
        return new Verdict(HttpResponseStatus.METHOD_NOT_ALLOWED,
            "the routes for this host and path take only " + allow, 0, allow);
      }
      return new Verdict(HttpResponseStatus.NOT_FOUND, "no route for this host and path");
    }
    ex.route = route;
    if (!route.methods().isEmpty()) {
      MethodOverrides.strip(headers); // the route's method list must hold for the backend too
    }
    // HTTP/2 has no Upgrade: towards an HTTP/2 group the request goes as a plain one (its Upgrade
    // header is dropped as hop-by-hop) and the backend answers it without switching. Nor does a
    // draining server open a tunnel its drain would then wait for: the client may retry elsewhere.
    GroupRuntime group = routing.groups().get(route.group().name());
    ex.upgrade = group.protocol().isHttp2() || context.isDraining() ? null : allowedUpgrade(request, route);
    return prepareSelection(ex, context, routing, clientIp);
  }

  /**
   * Drops the fields a client may not set for the backend: the forwarding headers unless it is a
   * trusted proxy (their underscore spellings even then), and the underscore spellings of the framing
   * fields from anyone.
   */
  private static void stripClientClaims(HttpHeaders headers, boolean peerTrusted) {
    if (!peerTrusted) {
      ForwardingHeaders.stripUntrusted(headers);
    } else {
      ForwardingHeaders.stripUnderscoreSpellings(headers);
    }
    FramingLookalikes.strip(headers);
  }

  /**
   * Fills in what the selectors need to know: client region, write or read, hash key, residency and
   * the read-your-writes window.
   */
  private static Verdict prepareSelection(Exchange ex, ProxyContext context, Routing routing,
      String clientIp) {
    HttpHeaders headers = ex.request.headers();
    GroupRuntime group = routing.groups().get(ex.route.group().name());
    ex.group = group;
    SelectionContext selection = ex.selection;
    ex.decisionSampled = context.recentDecisions.sample();
    selection.explain(ex.policies.explainDecisions || ex.decisionSampled);
    selection.write(ex.isWrite());
    selection.clientRegion(context.clientRegions.resolve(ex.clientAddress, headers));
    if (group.hashKey() != null) {
      String key = HashKeys.extract(group.hashKey(), headers, clientIp);
      if (key != null) {
        selection.hashKey(HashKeys.hash(key));
      }
    }
    Residency residency = ex.route.residency();
    if (residency != null) {
      String residencyClass = headers.get(residency.header());
      if (residencyClass != null) {
        Set<String> allowed = residency.regionsOf(residencyClass);
        if (allowed == null) {
          return new Verdict(HttpResponseStatus.BAD_REQUEST, "unknown residency class '" + residencyClass
              + "' in " + residency.header() + " (expected: one of " + residency.classes().keySet() + ")");
        }
        ex.residencyClass = residencyClass;
        selection.allowedRegions(allowed);
      }
    }
    if (group.readYourWritesMillis() > 0 && !selection.isWrite()) {
      String cookie = HashKeys.cookie(headers, ReadYourWritesCookie.NAME);
      if (cookie != null && ex.policies.readYourWrites.isValid(cookie, System.currentTimeMillis())) {
        selection.readYourWrites(true);
      }
    }
    if (ex.route.sticky() != null) {
      StickySessions.pin(ex, context);
    }
    return null;
  }

  /**
   * An HTTP/2 request: drops x-http2-* headers (Netty's translation names, which a backend must not
   * take as the proxy's) and refuses header values with CR, LF or NUL before anything is written
   * upstream as HTTP/1.1 (HPACK can carry them). A head read in place ({@link RawHeaders}, made by
   * {@link Http2StreamCodec}) had its values checked when it was read.
   */
  private static Verdict checkHttp2Headers(HttpHeaders headers) {
    for (AsciiString name : EXTENSION_HEADER_NAMES) {
      headers.remove(name);
    }
    if (headers instanceof RawHeaders) {
      return null;
    }
    for (java.util.Map.Entry<String, String> header : headers) {
      String value = header.getValue();
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c == '\r' || c == '\n' || c == 0) {
          return new Verdict(HttpResponseStatus.BAD_REQUEST,
              "header '" + header.getKey() + "' has a CR, LF or NUL in its value");
        }
      }
    }
    return null;
  }

  /** Only HTTP/1.0 and HTTP/1.1 are spoken on this codec. */
  private static Verdict checkVersion(HttpRequest request) {
    HttpVersion v = request.protocolVersion();
    if (v.majorVersion() != 1 || v.minorVersion() > 1) {
      return new Verdict(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
          "HTTP version " + v.text() + " is not supported here (expected: HTTP/1.0 or HTTP/1.1)");
    }
    return null;
  }

  /** Content-Length and Transfer-Encoding that a backend might read differently than we do. */
  private static Verdict checkFraming(HttpRequest request, boolean chunked) {
    HttpHeaders headers = request.headers();
    if (!headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      return null;
    }
    List<String> te = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (!te.isEmpty()) {
      if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
        return new Verdict(HttpResponseStatus.BAD_REQUEST, "Transfer-Encoding in an HTTP/1.0 request");
      }
      if (te.size() != 1 || !HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(te.get(0).trim()) || !chunked) {
        return new Verdict(HttpResponseStatus.BAD_REQUEST,
            "Transfer-Encoding must be exactly 'chunked' (got '" + String.join(", ", te) + "')");
      }
    }
    return null;
  }

  private static Verdict checkHost(HttpRequest request, boolean http2, ConnectionMemo connection) {
    String host = connection.host(request.headers());
    // HTTP/1 heads with two Host fields never get here (the decoder refuses them); HTTP/2 ones may.
    if (host != null && http2 && request.headers().getAll(HttpHeaderNames.HOST).size() > 1) {
      return new Verdict(HttpResponseStatus.BAD_REQUEST, "more than one Host header");
    }
    if (host == null && request.protocolVersion().equals(HttpVersion.HTTP_1_1)
        && !request.uri().regionMatches(true, 0, "http", 0, 4)) {
      return new Verdict(HttpResponseStatus.BAD_REQUEST, "HTTP/1.1 request without a Host header");
    }
    if (host != null && !connection.isCheckedHost(host)) {
      if (!HostPattern.isValidHost(host)) {
        return new Verdict(HttpResponseStatus.BAD_REQUEST, "malformed Host header");
      }
      connection.hostChecked(host);
    }
    return null;
  }


  /** The Upgrade protocol when the client asks for one through Connection and the route allows it. */
  private static String allowedUpgrade(HttpRequest request, Route route) {
    String upgrade = request.headers().get(HttpHeaderNames.UPGRADE);
    if (upgrade == null || !request.protocolVersion().equals(HttpVersion.HTTP_1_1)
        || !request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
      return null;
    }
    return route.allowsUpgrade(upgrade) ? upgrade : null;
  }

  /** The status for a request the decoder could not accept: 414, 431, 501 or 400. */
  static HttpResponseStatus statusForDecoderFailure(Throwable cause) {
    if (cause instanceof TooLongHttpLineException) {
      return URI_TOO_LONG;
    }
    if (cause instanceof UnsupportedTransferCodingException) {
      return HttpResponseStatus.NOT_IMPLEMENTED;
    }
    if (cause instanceof TooLongHttpHeaderException || cause instanceof TooManyHeadersException) {
      return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
    }
    return HttpResponseStatus.BAD_REQUEST;
  }

  /** The body text for a rejected request. */
  static String describe(HttpResponseStatus status, Throwable cause) {
    if (status.code() == 414) {
      return "the request line is longer than the limit";
    }
    if (status.equals(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)) {
      return cause instanceof TooManyHeadersException
          ? "the request has too many header fields"
          : "the request's header section is larger than the limit";
    }
    if (cause instanceof MalformedHeadException) {
      return "malformed request: " + cause.getMessage();
    }
    if (cause instanceof UnsupportedTransferCodingException) {
      return "not implemented: " + cause.getMessage();
    }
    return "malformed request";
  }
}
