package dev.meridian.proxy.http;

import io.netty.handler.codec.DateFormatter;
import java.util.Date;

/**
 * The {@code Date} header value (RFC 9110 IMF-fixdate) for responses Meridian makes itself, formatted
 * once per second and shared. Thread-safe.
 */
public final class HttpDate {
  /** The second formatted last and its text, replaced together. */
  private record Stamp(long second, String text) {}

  private static volatile Stamp last = new Stamp(Long.MIN_VALUE, "");

  private HttpDate() {}

  /** The current time as an HTTP date. */
  public static String now() {
    return of(System.currentTimeMillis());
  }

  /** The given time (epoch milliseconds) as an HTTP date, reusing the text while the second is the same. */
  public static String of(long epochMillis) {
    long second = Math.floorDiv(epochMillis, 1000);
    Stamp stamp = last;
    if (stamp.second() != second) {
      stamp = new Stamp(second, DateFormatter.format(new Date(second * 1000)));
      last = stamp;
    }
    return stamp.text();
  }
}
