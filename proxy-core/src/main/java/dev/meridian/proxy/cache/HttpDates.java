package dev.meridian.proxy.cache;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Reads HTTP dates strictly (RFC 9110 section 5.6.7): the preferred IMF-fixdate
 * ({@code Sun, 06 Nov 1994 08:49:37 GMT}) and the two obsolete formats a recipient must still accept,
 * RFC 850 ({@code Sunday, 06-Nov-94 08:49:37 GMT}) and asctime ({@code Sun Nov  6 08:49:37 1994}).
 * Names of days and months and {@code GMT} are read in any letter case; anything else (a two-digit
 * year in IMF-fixdate, a zone other than GMT, a missing comma, other spacing, a one-digit hour) is
 * invalid: an {@code Expires} that is invalid means the past (RFC 9111
 * section 5.3), and a validator that is invalid is ignored. Netty's lenient parser took such dates
 * as real ones, so a malformed {@code Expires} made an answer fresh.
 */
public final class HttpDates {
  /** What {@link #parse} returns for an absent or invalid date. */
  public static final long INVALID = Long.MIN_VALUE;

  private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  private static final String[] LONG_DAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
      "Sunday"};
  private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
      "Nov", "Dec"};

  private HttpDates() {}

  /** The date in milliseconds since the epoch, or {@link #INVALID} when absent or not an HTTP date. */
  public static long parse(String value) {
    return parse(value, 0);
  }

  /**
   * As {@link #parse(String)}, an RFC 850 date's two-digit year read against {@code currentYear} (0:
   * this year, by the clock, read only for such a date): the latest year with those digits that is not
   * more than 50 years ahead of it.
   */
  static long parse(String value, int currentYear) {
    if (value == null) {
      return INVALID;
    }
    try {
      if (value.length() == 29 && value.charAt(3) == ',') {
        return imfFixdate(value);
      }
      if (value.length() == 24 && value.charAt(3) == ' ') {
        return asctime(value);
      }
      int comma = value.indexOf(',');
      if (comma > 0) {
        return rfc850(value, comma, currentYear);
      }
    } catch (DateTimeException | NumberFormatException e) {
      return INVALID;
    }
    return INVALID;
  }

  /** {@code Sun, 06 Nov 1994 08:49:37 GMT}. */
  private static long imfFixdate(String v) {
    if (indexOf(DAYS, v.substring(0, 3)) < 0 || !v.startsWith(" ", 4) || v.charAt(7) != ' ' || v.charAt(11) != ' '
        || v.charAt(16) != ' ' || !endsWithGmt(v)) {
      return INVALID;
    }
    int month = indexOf(MONTHS, v.substring(8, 11));
    if (month < 0) {
      return INVALID;
    }
    return epochMillis(digits(v, 12, 4), month + 1, digits(v, 5, 2), v, 17);
  }

  /** {@code Sunday, 06-Nov-94 08:49:37 GMT}. */
  private static long rfc850(String v, int comma, int yearNow) {
    int at = comma + 2;
    if (indexOf(LONG_DAYS, v.substring(0, comma)) < 0 || v.length() != at + 22 || v.charAt(comma + 1) != ' '
        || v.charAt(at + 2) != '-' || v.charAt(at + 6) != '-' || v.charAt(at + 9) != ' ' || !endsWithGmt(v)) {
      return INVALID;
    }
    int month = indexOf(MONTHS, v.substring(at + 3, at + 6));
    if (month < 0) {
      return INVALID;
    }
    int twoDigits = digits(v, at + 7, 2);
    int currentYear = yearNow != 0 ? yearNow : LocalDateTime.now(ZoneOffset.UTC).getYear();
    int year = currentYear - Math.floorMod(currentYear, 100) + twoDigits;
    if (year > currentYear + 50) {
      year -= 100;
    }
    return epochMillis(year, month + 1, digits(v, at, 2), v, at + 10);
  }

  /** {@code Sun Nov  6 08:49:37 1994}. */
  private static long asctime(String v) {
    if (indexOf(DAYS, v.substring(0, 3)) < 0 || v.charAt(7) != ' ' || v.charAt(10) != ' ' || v.charAt(19) != ' ') {
      return INVALID;
    }
    int month = indexOf(MONTHS, v.substring(4, 7));
    if (month < 0) {
      return INVALID;
    }
    int day = v.charAt(8) == ' ' ? digits(v, 9, 1) : digits(v, 8, 2);
    return epochMillis(digits(v, 20, 4), month + 1, day, v, 11);
  }

  /** The instant of a date and the {@code HH:MM:SS} time at {@code time} in {@code v}; a leap second counts as :59. */
  private static long epochMillis(int year, int month, int day, String v, int time) {
    if (v.charAt(time + 2) != ':' || v.charAt(time + 5) != ':') {
      return INVALID;
    }
    int second = digits(v, time + 6, 2);
    if (second == 60) {
      second = 59;
    }
    return LocalDateTime.of(year, month, day, digits(v, time, 2), digits(v, time + 3, 2), second)
        .toEpochSecond(ZoneOffset.UTC) * 1000;
  }

  /** The decimal number of exactly {@code count} ASCII digits at {@code from}; else NumberFormatException. */
  private static int digits(String v, int from, int count) {
    int n = 0;
    for (int i = from; i < from + count; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        throw new NumberFormatException(v);
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  private static boolean endsWithGmt(String v) {
    return v.regionMatches(true, v.length() - 4, " GMT", 0, 4);
  }

  /** The index of {@code name} in {@code names}, in any letter case (as browsers read dates), or -1. */
  private static int indexOf(String[] names, String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) {
        return i;
      }
    }
    return -1;
  }
}
