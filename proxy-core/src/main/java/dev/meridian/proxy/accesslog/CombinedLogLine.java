package dev.meridian.proxy.accesslog;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Formats an {@link AccessLogEntry} in the NCSA combined log format, the default of nginx
 * ({@code combined}) and Apache, which log tools such as GoAccess and AWStats read:
 *
 * <pre>192.0.2.7 - - [14/Nov/2023:22:13:20 +0000] "GET /a/b?x=1 HTTP/1.1" 200 3456 "-" "curl/8.0"</pre>
 *
 * <p>The client's address, the user (always {@code -}: the proxy authenticates no one), the time the
 * request head arrived (the JVM's time zone), the request line (method, target with its query when
 * {@code access-log.query} is on, protocol), the status (499 when the client left before an answer),
 * the response body's bytes, Referer and User-Agent; then, quoted, each field
 * {@code access-log.request-headers} and {@code response-headers} name, in that order ({@code -} when
 * absent), as nginx's own formats add fields. Text is written as nginx writes it: {@code "},
 * {@code \}, control characters and bytes above 0x7e as {@code \xHH}, so no field can end early or
 * act on a terminal.
 *
 * <p>Not thread-safe: the writer thread owns one.
 */
public final class CombinedLogLine implements LineFormat {
  private static final int MAX_CLIENT_TEXT = 2048;
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private final StringBuilder out = new StringBuilder(256);
  private final DateTimeFormatter second;
  private long cachedSecond = Long.MIN_VALUE;
  private String cachedSecondText;

  /** Lines with times in the JVM's time zone, as nginx's {@code $time_local}. */
  public CombinedLogLine() {
    this(ZoneId.systemDefault());
  }

  /** Lines with times in this zone. */
  public CombinedLogLine(ZoneId zone) {
    this.second = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(zone);
  }

  @Override
  public StringBuilder format(AccessLogEntry e) {
    out.setLength(0);
    out.append(e.client == null ? "-" : e.client).append(" - - [");
    long epochSecond = Math.floorDiv(e.startEpochMillis, 1000);
    if (epochSecond != cachedSecond) {
      cachedSecond = epochSecond;
      cachedSecondText = second.format(Instant.ofEpochSecond(epochSecond));
    }
    out.append(cachedSecondText).append("] \"");
    if (e.method == null || e.path == null || "-".equals(e.method)) {
      out.append('-'); // no request line that could be read
    } else {
      text(e.method);
      out.append(' ');
      text(e.path);
      if (e.query != null) {
        out.append('?');
        text(e.query);
      }
      out.append(' ');
      text(e.protocol == null ? "-" : e.protocol);
    }
    out.append("\" ").append(e.status).append(' ').append(e.bytesOut);
    quoted(e.referer);
    quoted(e.userAgent);
    for (String value : e.requestHeaders) {
      quoted(value);
    }
    for (String value : e.responseHeaders) {
      quoted(value);
    }
    return out;
  }

  /** A space and the value in quotes, or {@code "-"} when there is none. */
  private void quoted(CharSequence value) {
    out.append(" \"");
    if (value == null) {
      out.append('-');
    } else {
      text(value);
    }
    out.append('"');
  }

  /** Text as the client sent it (a byte per char), escaped as nginx escapes a log variable. */
  private void text(CharSequence value) {
    int end = Math.min(value.length(), MAX_CLIENT_TEXT);
    for (int i = 0; i < end; i++) {
      char c = value.charAt(i);
      if (c > 0xff) {
        for (byte b : String.valueOf(c).getBytes(StandardCharsets.UTF_8)) {
          escape(b & 0xff);
        }
      } else if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
        escape(c);
      } else {
        out.append(c);
      }
    }
  }

  private void escape(int b) {
    out.append("\\x").append(HEX[b >> 4 & 0xf]).append(HEX[b & 0xf]);
  }
}
