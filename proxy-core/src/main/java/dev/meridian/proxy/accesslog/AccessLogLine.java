package dev.meridian.proxy.accesslog;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Formats an {@link AccessLogEntry} as one JSON object on one line, into a reused buffer.
 *
 * <p>Fields, in order: {@code time} (the head's arrival, RFC 3339 UTC with milliseconds),
 * {@code request_id}, {@code trace_id}, {@code client}, {@code method}, {@code host}, {@code path},
 * {@code query}, {@code protocol}, {@code status}, {@code bytes_in}, {@code bytes_out}, {@code cut_off}
 * (only when true), {@code duration_ms},
 * {@code upstream_ms}, {@code route}, {@code group}, {@code client_region}, {@code region},
 * {@code backend}, {@code attempts}, {@code cache}, {@code sticky}, {@code decision}, {@code tls},
 * {@code sni}, {@code referer}, {@code user_agent}. A field the request does not have is left out. Strings
 * are escaped as JSON requires; text from the client (host, path, query, referer, user agent) is cut at
 * 2048 characters.
 *
 * <p>Not thread-safe: the writer thread owns one.
 */
public final class AccessLogLine {
  private static final int MAX_CLIENT_TEXT = 2048;
  private static final DateTimeFormatter SECOND =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final StringBuilder out = new StringBuilder(512);
  private long cachedSecond = Long.MIN_VALUE;
  private String cachedSecondText;

  /** Formats the entry and returns the buffer holding the line (without a line break), valid until the next call. */
  public StringBuilder format(AccessLogEntry e) {
    out.setLength(0);
    out.append("{\"time\":\"");
    appendTime(e.startEpochMillis);
    out.append('"');
    string("request_id", e.requestId, Integer.MAX_VALUE);
    if (e.traceparent != null && e.traceparent.length() >= 35) {
      out.append(",\"trace_id\":\"").append(e.traceparent, 3, 35).append('"');
    }
    string("client", e.client, Integer.MAX_VALUE);
    string("method", e.method, MAX_CLIENT_TEXT);
    string("host", e.host, MAX_CLIENT_TEXT);
    string("path", e.path, MAX_CLIENT_TEXT);
    string("query", e.query, MAX_CLIENT_TEXT);
    string("protocol", e.protocol, Integer.MAX_VALUE);
    out.append(",\"status\":").append(e.status);
    out.append(",\"bytes_in\":").append(e.bytesIn);
    out.append(",\"bytes_out\":").append(e.bytesOut);
    if (e.cutOff) {
      out.append(",\"cut_off\":true");
    }
    millis("duration_ms", e.durationNanos);
    if (e.upstreamNanos >= 0) {
      millis("upstream_ms", e.upstreamNanos);
    }
    string("route", e.route, Integer.MAX_VALUE);
    string("group", e.group, Integer.MAX_VALUE);
    string("client_region", e.clientRegion, Integer.MAX_VALUE);
    string("region", e.region, Integer.MAX_VALUE);
    string("backend", e.backend, Integer.MAX_VALUE);
    out.append(",\"attempts\":").append(e.attempts);
    string("cache", e.cache, Integer.MAX_VALUE);
    string("sticky", e.sticky, Integer.MAX_VALUE);
    string("decision", e.decision, Integer.MAX_VALUE);
    string("tls", e.tls, Integer.MAX_VALUE);
    string("sni", e.sni, MAX_CLIENT_TEXT);
    string("referer", e.referer, MAX_CLIENT_TEXT);
    string("user_agent", e.userAgent, MAX_CLIENT_TEXT);
    out.append('}');
    return out;
  }

  private void appendTime(long epochMillis) {
    long second = Math.floorDiv(epochMillis, 1000);
    if (second != cachedSecond) {
      cachedSecond = second;
      cachedSecondText = SECOND.format(Instant.ofEpochSecond(second));
    }
    int millis = (int) Math.floorMod(epochMillis, 1000);
    out.append(cachedSecondText).append('.');
    out.append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10)).append((char) ('0' + millis % 10));
    out.append('Z');
  }

  /** Milliseconds with three decimals (microseconds). */
  private void millis(String name, long nanos) {
    long micros = Math.max(0, nanos) / 1000;
    out.append(",\"").append(name).append("\":").append(micros / 1000).append('.');
    long fraction = micros % 1000;
    out.append((char) ('0' + fraction / 100)).append((char) ('0' + fraction / 10 % 10))
        .append((char) ('0' + fraction % 10));
  }

  private void string(String name, CharSequence value, int max) {
    if (value == null) {
      return;
    }
    out.append(",\"").append(name).append("\":\"");
    int end = Math.min(value.length(), max);
    for (int i = 0; i < end; i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) {
            appendUnicodeEscape(c);
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  private void appendUnicodeEscape(char c) {
    out.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf]).append(HEX[c >> 4 & 0xf])
        .append(HEX[c & 0xf]);
  }
}
