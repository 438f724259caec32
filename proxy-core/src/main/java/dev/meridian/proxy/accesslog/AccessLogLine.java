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
 * {@code backend}, {@code upstream_addr}, {@code upstream_status}, {@code attempts}, {@code reason} (why
 * Meridian answered itself), {@code cache}, {@code sticky}, {@code decision}, {@code tls},
 * {@code sni}, {@code referer}, {@code user_agent}, then {@code request_headers} and
 * {@code response_headers} (objects of the fields {@code access-log.request-headers} and
 * {@code response-headers} name, by lower-case name, each left out when none of its fields was
 * there). A field the request does not have is left out. Strings
 * are escaped as JSON requires; text from the client (method, host, path, query, sni, referer, user
 * agent) is cut at 2048 bytes. It arrives as bytes (one char each): a run that is UTF-8 is written as
 * the characters it encodes, any other byte above 0x7f as a JSON escape of that byte's value, and control characters
 * (C0, DEL, C1: a terminal acts on some) and U+2028/U+2029 always as escapes, so a line read by
 * {@code tail} or a JSON parser shows what the client sent and nothing can act on the reader.
 *
 * <p>Not thread-safe: the writer thread owns one.
 */
public final class AccessLogLine implements LineFormat {
  private static final int MAX_CLIENT_TEXT = 2048;
  private static final DateTimeFormatter SECOND =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final StringBuilder out = new StringBuilder(512);
  private final String[] requestHeaderNames;
  private final String[] responseHeaderNames;
  private long cachedSecond = Long.MIN_VALUE;
  private String cachedSecondText;

  /** A line of the fields every request has, no header fields. */
  public AccessLogLine() {
    this(java.util.List.of(), java.util.List.of());
  }

  /** A line that also records these request and response fields (lower-case names). */
  public AccessLogLine(java.util.List<String> requestHeaderNames, java.util.List<String> responseHeaderNames) {
    this.requestHeaderNames = requestHeaderNames.toArray(new String[0]);
    this.responseHeaderNames = responseHeaderNames.toArray(new String[0]);
  }

  @Override
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
    clientText("method", e.method);
    clientText("host", e.host);
    clientText("path", e.path);
    clientText("query", e.query);
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
    string("upstream_addr", e.upstreamAddr, Integer.MAX_VALUE);
    if (e.upstreamStatus > 0) {
      out.append(",\"upstream_status\":").append(e.upstreamStatus);
    }
    out.append(",\"attempts\":").append(e.attempts);
    string("reason", e.reason, MAX_CLIENT_TEXT);
    string("cache", e.cache, Integer.MAX_VALUE);
    string("sticky", e.sticky, Integer.MAX_VALUE);
    string("decision", e.decision, Integer.MAX_VALUE);
    string("tls", e.tls, Integer.MAX_VALUE);
    clientText("sni", e.sni);
    clientText("referer", e.referer);
    clientText("user_agent", e.userAgent);
    headers("request_headers", requestHeaderNames, e.requestHeaders);
    headers("response_headers", responseHeaderNames, e.responseHeaders);
    out.append('}');
    return out;
  }

  /** An object of the recorded fields that were there, or nothing when none was. */
  private void headers(String name, String[] names, String[] values) {
    boolean first = true;
    for (int i = 0; i < names.length && i < values.length; i++) {
      if (values[i] == null) {
        continue;
      }
      out.append(first ? ",\"" + name + "\":{\"" : ",\"").append(names[i]).append("\":");
      first = false;
      clientTextValue(values[i]);
    }
    if (!first) {
      out.append('}');
    }
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
      character(value.charAt(i));
    }
    out.append('"');
  }

  /** Text as the client sent it, one byte per char: UTF-8 runs decoded, other high bytes escaped. */
  private void clientText(String name, CharSequence value) {
    if (value == null) {
      return;
    }
    out.append(",\"").append(name).append("\":");
    clientTextValue(value);
  }

  /** A client's text as a JSON string (see {@link #clientText}). */
  private void clientTextValue(CharSequence value) {
    out.append('"');
    int end = Math.min(value.length(), MAX_CLIENT_TEXT);
    int i = 0;
    while (i < end) {
      char c = value.charAt(i);
      if (c < 0x80 || c > 0xff) {
        character(c);
        i++;
        continue;
      }
      int length = utf8Length(value, i, end);
      if (length == 0) {
        appendUnicodeEscape(c); // not UTF-8: the byte itself
        i++;
        continue;
      }
      int codePoint = c & (0xff >> (length + 1));
      for (int k = 1; k < length; k++) {
        codePoint = codePoint << 6 | (value.charAt(i + k) & 0x3f);
      }
      if (codePoint <= 0x9f || codePoint == 0x2028 || codePoint == 0x2029) {
        appendUnicodeEscape((char) codePoint);
      } else {
        out.appendCodePoint(codePoint);
      }
      i += length;
    }
    out.append('"');
  }

  /**
   * The length of the well-formed UTF-8 sequence (RFC 3629: no overlong form, no surrogate, at most
   * U+10FFFF) that starts at {@code from}, or 0 when none does.
   */
  private static int utf8Length(CharSequence text, int from, int end) {
    int lead = text.charAt(from);
    int length;
    int min = 0x80;
    int max = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      min = lead == 0xe0 ? 0xa0 : 0x80;
      max = lead == 0xed ? 0x9f : 0xbf;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      min = lead == 0xf0 ? 0x90 : 0x80;
      max = lead == 0xf4 ? 0x8f : 0xbf;
    } else {
      return 0;
    }
    if (from + length > end) {
      return 0;
    }
    for (int k = 1; k < length; k++) {
      char b = text.charAt(from + k);
      if (b < (k == 1 ? min : 0x80) || b > (k == 1 ? max : 0xbf)) {
        return 0;
      }
    }
    return length;
  }

  private void character(char c) {
    switch (c) {
      case '"' -> out.append("\\\"");
      case '\\' -> out.append("\\\\");
      case '\n' -> out.append("\\n");
      case '\r' -> out.append("\\r");
      case '\t' -> out.append("\\t");
      default -> {
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || Character.isSurrogate(c)) {
          appendUnicodeEscape(c);
        } else {
          out.append(c);
        }
      }
    }
  }

  private void appendUnicodeEscape(char c) {
    out.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf]).append(HEX[c >> 4 & 0xf])
        .append(HEX[c & 0xf]);
  }
}
