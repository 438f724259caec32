package dev.meridian.proxy.drill;

import dev.meridian.proxy.admin.DurationParam;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The service-level objectives a drill is judged by, from {@code --slo errors=0,shift=1s,p99=200ms}:
 * <ul>
 *   <li>{@code errors=N} (or {@code N%}): failed requests from the action to the end of the drill;</li>
 *   <li>{@code shift=D}: the region's share falls below 1% within D of the action;</li>
 *   <li>{@code failback=D}: its share is back to 90% of its baseline within D of the restore;</li>
 *   <li>{@code p50=D}, {@code p99=D}, {@code p999=D}: latency during the hold.</li>
 * </ul>
 *
 * @param objectives each objective in the order given
 */
public record SloSpec(List<Objective> objectives) {
  /** One objective: a name and its limit (a count, a percentage or milliseconds). */
  public record Objective(String name, double limit, boolean percent) {
    /** How the limit reads, e.g. {@code 0}, {@code 0.1%} or {@code 200 ms}. */
    String describeLimit() {
      if (name.equals("errors")) {
        return percent ? fmt(limit) + "%" : fmt(limit);
      }
      return fmt(limit) + " ms";
    }
  }

  /** The verdict on one objective. */
  public record Verdict(String name, String limit, String actual, boolean held) {}

  /** No objectives: every drill passes. */
  public static final SloSpec NONE = new SloSpec(List.of());

  /**
   * Parses the {@code --slo} text.
   *
   * @throws IllegalArgumentException naming the bad part and the expected form
   */
  public static SloSpec parse(String text) {
    List<Objective> out = new ArrayList<>();
    if (text == null || text.isBlank()) {
      return NONE;
    }
    String expected = " (expected: errors=N|N%, shift=D, failback=D, p50=D, p99=D or p999=D, comma-separated)";
    for (String part : text.split(",")) {
      String[] kv = part.trim().split("=", 2);
      if (kv.length != 2) {
        throw new IllegalArgumentException("slo: '" + part.trim() + "'" + expected);
      }
      String name = kv[0].trim().toLowerCase(Locale.ROOT);
      String value = kv[1].trim();
      switch (name) {
        case "errors" -> {
          boolean percent = value.endsWith("%");
          try {
            double limit = Double.parseDouble(percent ? value.substring(0, value.length() - 1) : value);
            if (!(limit >= 0)) {
              throw new NumberFormatException();
            }
            out.add(new Objective(name, limit, percent));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("slo: errors '" + value + "'" + expected);
          }
        }
        case "shift", "failback", "p50", "p99", "p999" -> {
          Duration d = DurationParam.parse("slo " + name, value);
          out.add(new Objective(name, d.toNanos() / 1e6, false));
        }
        default -> throw new IllegalArgumentException("slo: unknown objective '" + name + "'" + expected);
      }
    }
    return new SloSpec(List.copyOf(out));
  }

  /** Judges a finished drill. */
  List<Verdict> judge(DrillReport report) {
    List<Verdict> verdicts = new ArrayList<>();
    for (Objective o : objectives) {
      verdicts.add(switch (o.name()) {
        case "errors" -> {
          long errors = report.errorsFromAction();
          long requests = report.requestsFromAction();
          double actual = o.percent() ? (requests == 0 ? 0 : 100.0 * errors / requests) : errors;
          yield new Verdict("errors", o.describeLimit(), o.percent() ? fmt(actual) + "%" : Long.toString(errors),
              actual <= o.limit());
        }
        case "shift" -> millis("shift", o, report.shiftMillis());
        case "failback" -> millis("failback", o, report.failbackMillis());
        default -> {
          double q = o.name().equals("p50") ? 0.5 : o.name().equals("p99") ? 0.99 : 0.999;
          double actual = report.phase("during").quantileMillis(q);
          yield new Verdict(o.name(), o.describeLimit(),
              Double.isNaN(actual) ? "no requests" : fmt(actual) + " ms", !Double.isNaN(actual) && actual <= o.limit());
        }
      });
    }
    return verdicts;
  }

  private static Verdict millis(String name, Objective o, Long actual) {
    return new Verdict(name, o.describeLimit(), actual == null ? "not reached" : actual + " ms",
        actual != null && actual <= o.limit());
  }

  static String fmt(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.1f", v);
  }
}
