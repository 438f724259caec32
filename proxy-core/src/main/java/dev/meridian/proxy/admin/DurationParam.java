package dev.meridian.proxy.admin;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a duration written as in the configuration file: {@code 250ms}, {@code 30s}, {@code 2m}, {@code 1h}; a bare number is milliseconds. */
public final class DurationParam {
  private static final Pattern FORM = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

  private DurationParam() {}

  /**
   * Parses the text.
   *
   * @throws IllegalArgumentException naming {@code name} and the expected form
   */
  public static Duration parse(String name, String text) {
    Matcher m = text == null ? null : FORM.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (m == null || !m.matches()) {
      throw new IllegalArgumentException(name + ": '" + text + "' (expected: a duration such as 250ms, 30s or 2m)");
    }
    double value = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "ms" : m.group(2);
    double millis = switch (unit) {
      case "h" -> value * 3_600_000;
      case "m" -> value * 60_000;
      case "s" -> value * 1_000;
      default -> value;
    };
    if (millis > Duration.ofDays(30).toMillis()) {
      throw new IllegalArgumentException(name + ": '" + text + "' (expected: at most 30 days)");
    }
    return Duration.ofNanos(Math.round(millis * 1_000_000));
  }
}
