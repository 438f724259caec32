package dev.meridian.proxy.server;

import dev.meridian.balancer.StickyPin;
import dev.meridian.proxy.accesslog.AccessLog;
import dev.meridian.proxy.accesslog.AccessLogEntry;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * Writes a finished request into the access log: claims an entry, fills it from the exchange and
 * the connection, and publishes it. Everything put in the entry is a reference the request already
 * holds; only the user agent, the referer and the fields {@code access-log.request-headers} and
 * {@code response-headers} name are read from the heads for it.
 */
final class AccessLogRecorder {
  private static final String HTTP_2 = "HTTP/2.0";
  private static final String[] STICKY_LABELS = stickyLabels();

  private AccessLogRecorder() {}

  /**
   * Logs the exchange, which ended with this status (499: the client left before an answer) this
   * long after its head arrived; {@code cutOff} when its response had started and did not end.
   */
  static void record(ProxyContext context, FrontendHandler connection, Exchange ex, int status, long duration,
      boolean cutOff) {
    AccessLog log = context.accessLog;
    if (log == null) {
      return;
    }
    AccessLogEntry e = log.claim(status);
    if (e == null) {
      return;
    }
    try {
      e.startEpochMillis = context.epochMillis() - duration / 1_000_000;
      e.durationNanos = duration;
      e.upstreamNanos = ex.upstreamNanos;
      e.status = status;
      e.cutOff = cutOff;
      e.requestId = ex.requestId;
      e.traceparent = ex.traceparent;
      e.client = connection.clientIp;
      e.method = ex.method;
      e.host = ex.host;
      e.path = ex.path;
      e.protocol = ex.http2 ? HTTP_2 : ex.clientVersion.text();
      e.bytesIn = ex.bodyBytesForwarded;
      e.bytesOut = ex.responseBytes;
      e.route = ex.route == null ? null : ex.route.name();
      e.group = ex.group == null ? null : ex.group.group().name();
      e.clientRegion = ex.selection.clientRegion();
      e.region = ex.backend == null ? null : ex.backend.region();
      e.backend = ex.backend == null ? null : ex.backend.id();
      e.upstreamAddr = ex.backend == null ? null : ex.backend.authority();
      e.upstreamStatus = ex.upstreamStatus;
      e.attempts = ex.attempts;
      e.reason = ex.localReason;
      e.cache = ex.cacheStatus();
      e.sticky = ex.route != null && ex.route.sticky() != null && !ex.fromCache()
          ? STICKY_LABELS[ex.selection.pinOutcome().ordinal()] : null;
      // Only with access-log.decisions: debug-headers alone also makes selectors explain themselves.
      e.decision = ex.policies.accessLogDecisions ? ex.selection.decision() : null;
      e.tls = connection.tlsVersion();
      e.sni = connection.serverName();
      e.userAgent = ex.request.headers().get(HttpHeaderNames.USER_AGENT);
      e.referer = ex.request.headers().get(HttpHeaderNames.REFERER);
      e.query = log.recordsQuery() ? queryOf(ex.request.uri()) : null;
      if (ex.loggedRequestFields != null) {
        System.arraycopy(ex.loggedRequestFields, 0, e.requestHeaders, 0,
            Math.min(ex.loggedRequestFields.length, e.requestHeaders.length));
      }
      if (e.responseHeaders.length > 0 && ex.sentHeaders != null) {
        recordFields(ex.sentHeaders, log.responseHeaders(), e.responseHeaders, ex.http2);
      }
    } finally {
      log.publish(e);
    }
  }

  /**
   * Takes the request's values of the fields the access log records (access-log.request-headers),
   * as the head arrives: it is rewritten in place before it goes upstream. Nothing when none are named.
   */
  static void noteRequestFields(ProxyContext context, Exchange ex) {
    AccessLog log = context.accessLog;
    if (log == null || log.requestHeaders().isEmpty()) {
      return;
    }
    String[] values = new String[log.requestHeaders().size()];
    recordFields(ex.request.headers(), log.requestHeaders(), values, false);
    ex.loggedRequestFields = values;
  }

  /**
   * The values of the named fields, null for one not there: several lines of one joined with ", "
   * ("; " for Cookie, as HTTP/2 splits it), cut at {@value #MAX_VALUE} characters. For an HTTP/2
   * client, the fields of a connection (Connection, Transfer-Encoding, ...) are none: its codec does
   * not send them.
   */
  private static void recordFields(HttpHeaders headers, List<String> names, String[] values, boolean http2) {
    for (int i = 0; i < values.length; i++) {
      String name = names.get(i);
      if (http2 && HTTP2_NEVER_SENT.contains(name)) {
        values[i] = null;
        continue;
      }
      List<String> lines = headers.getAll(name);
      if (lines.isEmpty()) {
        values[i] = null;
        continue;
      }
      String joined = lines.get(0);
      if (lines.size() > 1) {
        StringBuilder all = new StringBuilder();
        String separator = name.equals("cookie") ? "; " : ", ";
        for (int k = 0; k < lines.size() && all.length() < MAX_VALUE; k++) {
          all.append(k == 0 ? "" : separator).append(lines.get(k));
        }
        joined = all.toString();
      }
      values[i] = joined.length() > MAX_VALUE ? joined.substring(0, MAX_VALUE) : joined;
    }
  }

  /** The most characters of one recorded field kept (the line cuts client text there anyway). */
  private static final int MAX_VALUE = 2048;
  /** Connection-specific fields an HTTP/2 response never carries (RFC 9113 section 8.2.2). */
  private static final java.util.Set<String> HTTP2_NEVER_SENT = java.util.Set.of("connection", "keep-alive",
      "proxy-connection", "transfer-encoding", "upgrade");

  /** What sticky sessions did, by outcome: a request without a pin gets a new one. */
  private static String[] stickyLabels() {
    StickyPin.Outcome[] outcomes = StickyPin.Outcome.values();
    String[] labels = new String[outcomes.length];
    for (StickyPin.Outcome o : outcomes) {
      labels[o.ordinal()] = o == StickyPin.Outcome.NONE ? "new" : o.name().toLowerCase(java.util.Locale.ROOT);
    }
    return labels;
  }

  /** The query of a request target, without its '?', or null when it has none. */
  private static String queryOf(String uri) {
    int mark = uri == null ? -1 : uri.indexOf('?');
    return mark < 0 ? null : uri.substring(mark + 1);
  }
}
