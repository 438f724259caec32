package dev.meridian.proxy.config;

import dev.meridian.proxy.http.HeaderSettings;
import dev.meridian.proxy.config.MeridianSettings.LimitSettings;
import dev.meridian.proxy.config.MeridianSettings.ServerSettings;
import dev.meridian.proxy.config.MeridianSettings.TimeoutSettings;
import dev.meridian.proxy.config.MeridianSettings.UpstreamSettings;
import dev.meridian.proxy.routing.PathPolicy;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads the sections that tune the server rather than shape it: {@code server}, {@code limits},
 * {@code timeouts}, {@code upstream} and {@code headers}. Every key has its default in
 * {@code reference.conf}, so each read here is required.
 */
final class TuningReader {
  private static final List<String> TRANSPORTS = List.of("auto", "io_uring", "epoll", "nio");
  /** The smallest HTTP/2 connection buffer: one backend read (64 KiB at most) must fit. */
  private static final int MIN_HTTP2_CONNECTION_BUFFER = 64 * 1024;
  private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  /** RFC 9110 section 7.6.3: received-by is a pseudonym (a token) with an optional port. */
  private static final Pattern VIA_PSEUDONYM = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+(:[0-9]{1,5})?");

  private TuningReader() {}

  /** Reads {@code meridian.server}. */
  static ServerSettings server(ObjectReader meridian) {
    ObjectReader s = meridian.section("server");
    String transport = s.requiredString("transport").orElse("auto");
    if (!TRANSPORTS.contains(transport)) {
      s.problem("transport", "unknown transport '" + transport + "' (expected: one of "
          + String.join(", ", TRANSPORTS) + ")");
    }
    return new ServerSettings(transport, s.integer("event-loop-threads", 0), s.duration("drain-timeout"),
        s.bool("reuse-port"));
  }

  /** Reads {@code meridian.limits}. */
  static LimitSettings limits(ObjectReader meridian) {
    ObjectReader l = meridian.section("limits");
    double rate = l.decimal("client-request-rate", 0, 0, 1e9);
    int burst = l.integer("client-request-burst", 0);
    int http2Buffer = l.bytes("http2-connection-buffer");
    if (http2Buffer < MIN_HTTP2_CONNECTION_BUFFER) {
      l.problem("http2-connection-buffer", http2Buffer + " bytes is too small (expected: at least 64KiB, one"
          + " backend read)");
    }
    return new LimitSettings(l.bytes("max-request-line"), l.bytes("max-header-bytes"),
        l.integer("max-header-count", 1), l.duration("request-head-timeout"),
        l.integer("max-connections", 1), l.integer("max-connections-per-client", 0), rate,
        burst == 0 ? (int) Math.max(1, Math.ceil(rate)) : burst, l.bytesOrZero("min-request-body-rate"), http2Buffer,
        l.largeBytesOrZero("max-request-body"), l.bool("abort-on-client-close"));
  }

  /** Reads {@code meridian.paths}: slashes merged or not, and what an encoded slash does. */
  static PathPolicy paths(ObjectReader meridian) {
    ObjectReader p = meridian.section("paths");
    String slash = p.string("encoded-slash", "reject");
    PathPolicy.EncodedSlash mode = switch (slash) {
      case "reject" -> PathPolicy.EncodedSlash.REJECT;
      case "keep" -> PathPolicy.EncodedSlash.KEEP;
      case "decode" -> PathPolicy.EncodedSlash.DECODE;
      default -> {
        p.problem("encoded-slash", "'" + slash + "' is not a policy (expected: reject, keep or decode)");
        yield PathPolicy.EncodedSlash.REJECT;
      }
    };
    return new PathPolicy(p.bool("merge-slashes"), mode);
  }

  /** Reads {@code meridian.timeouts}. */
  static TimeoutSettings timeouts(ObjectReader meridian) {
    ObjectReader t = meridian.section("timeouts");
    Duration clientIdle = t.duration("client-idle");
    Duration upstreamIdle = t.duration("upstream-idle");
    // 0: the shorter of the two idle timeouts, which timed tunnels before tunnel-idle existed.
    Duration tunnelIdle = t.durationOrZero("tunnel-idle", Duration.ZERO);
    return new TimeoutSettings(t.duration("connect"), t.duration("response-headers"),
        t.durationOrZero("response-deadline", Duration.ZERO), clientIdle, upstreamIdle,
        tunnelIdle.isZero() ? (clientIdle.compareTo(upstreamIdle) < 0 ? clientIdle : upstreamIdle) : tunnelIdle);
  }

  /** Reads {@code meridian.upstream}; the low watermark must not exceed the high one. */
  static UpstreamSettings upstream(ObjectReader meridian) {
    ObjectReader u = meridian.section("upstream");
    int low = u.bytes("write-buffer-low");
    int high = u.bytes("write-buffer-high");
    if (low > high) {
      u.problem("write-buffer-low", low + " bytes is above write-buffer-high (" + high
          + " bytes) (expected: write-buffer-low <= write-buffer-high)");
    }
    return new UpstreamSettings(u.integer("max-idle-per-backend", 0), u.integer("connect-attempts", 1), low, high);
  }

  /** Reads {@code meridian.headers}. */
  static HeaderSettings headers(ObjectReader meridian) {
    ObjectReader h = meridian.section("headers");
    String requestId = h.requiredString("request-id-header").orElse("X-Request-Id");
    if (!HEADER_NAME.matcher(requestId).matches()) {
      h.problem("request-id-header", "'" + requestId + "' is not a header name (expected: a token such as X-Request-Id)");
    }
    String via = h.requiredString("via").orElse("");
    if (!via.isEmpty() && !VIA_PSEUDONYM.matcher(via).matches()) {
      h.problem("via", "'" + via + "' is not a Via pseudonym (expected: a token such as meridian or edge-1,"
          + " optionally with :port; \"\" for no Via)");
    }
    return new HeaderSettings(via, h.bool("x-forwarded"), h.bool("forwarded"), requestId);
  }
}
