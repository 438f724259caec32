package dev.meridian.proxy.drill;

import dev.meridian.proxy.admin.DurationParam;
import java.time.Duration;
import java.util.Locale;

/**
 * What a drill does to the region under test, and how it is undone: {@code dial=N} (the region
 * offers N% of its capacity), {@code eject} (every backend out), {@code delay=200ms} (each request
 * held before forwarding), {@code abort=503:10%} (a share of requests answered with a status as if the
 * region had).
 *
 * @param kind    dial, eject, delay or abort
 * @param percent the dial, or the share of requests aborted
 * @param delay   the injected delay
 * @param status  the abort status
 */
public record DrillAction(String kind, double percent, Duration delay, int status) {

  /**
   * Parses the {@code --action} text.
   *
   * @throws IllegalArgumentException naming what is wrong and the expected forms
   */
  public static DrillAction parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    String expected = " (expected: dial=0-100, eject, delay=200ms or abort=503:10%)";
    try {
      if (t.equals("eject")) {
        return new DrillAction("eject", 0, Duration.ZERO, 0);
      }
      if (t.startsWith("dial=")) {
        int dial = Integer.parseInt(t.substring(5).replace("%", "").trim());
        if (dial < 0 || dial > 100) {
          throw new IllegalArgumentException("action: '" + text + "': dial out of range" + expected);
        }
        return new DrillAction("dial", dial, Duration.ZERO, 0);
      }
      if (t.startsWith("delay=")) {
        Duration delay;
        try {
          delay = DurationParam.parse("delay", t.substring(6));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("action: '" + text + "': " + e.getMessage() + expected);
        }
        if (delay.isZero()) {
          throw new IllegalArgumentException("action: '" + text + "': zero delay" + expected);
        }
        return new DrillAction("delay", 0, delay, 0);
      }
      if (t.startsWith("abort=")) {
        String[] parts = t.substring(6).split(":");
        int status = Integer.parseInt(parts[0].trim());
        double share = parts.length > 1 ? Double.parseDouble(parts[1].replace("%", "").trim()) : 100;
        if (status < 500 || status > 599 || !(share > 0 && share <= 100) || parts.length > 2) {
          throw new IllegalArgumentException("action: '" + text + "': status 500-599 and share 0-100% needed" + expected);
        }
        return new DrillAction("abort", share, Duration.ZERO, status);
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("action: '" + text + "'" + expected);
    }
    throw new IllegalArgumentException("action: '" + text + "'" + expected);
  }

  /** Applies the action through the admin API; it undoes itself after {@code ttl} if nobody restores it. */
  void apply(AdminClient admin, String group, String region, Duration ttl) {
    String base = "/admin/api/regions/" + group + "/" + region;
    String limit = "ttl=" + ttl.toMillis() + "ms";
    switch (kind) {
      case "dial" -> admin.post(base + "/dial?percent=" + (int) percent + "&" + limit);
      case "eject" -> admin.post(base + "/eject?" + limit);
      case "delay" -> admin.post(base + "/fault?delay=" + delay.toMillis() + "ms&" + limit);
      default -> admin.post(base + "/fault?abort=" + status + "&percent=" + percent + "&" + limit);
    }
  }

  /** Undoes the action through the admin API. */
  void restore(AdminClient admin, String group, String region, int previousDial) {
    String base = "/admin/api/regions/" + group + "/" + region;
    switch (kind) {
      case "dial" -> admin.post(base + "/dial?percent=" + previousDial);
      case "eject" -> admin.post(base + "/restore");
      default -> admin.delete(base + "/fault");
    }
  }

  /** The action as written on the command line. */
  @Override
  public String toString() {
    return switch (kind) {
      case "dial" -> "dial=" + (int) percent;
      case "eject" -> "eject";
      case "delay" -> "delay=" + delay.toMillis() + "ms";
      default -> "abort=" + status + ":" + (percent == Math.rint(percent) ? Long.toString((long) percent) : percent) + "%";
    };
  }
}
