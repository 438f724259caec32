package dev.meridian.proxy.config;

import dev.meridian.proxy.routing.HedgePolicy;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads {@code routes[].hedge}: the delay (a duration or a latency percentile), the count and the target. */
final class HedgeReader {
  private static final Pattern PERCENTILE = Pattern.compile("p(\\d{1,2}(\\.\\d{1,3})?)");

  private HedgeReader() {}

  /** A route's {@code hedge} object, if it has one. */
  static Optional<HedgePolicy> policy(ObjectReader route) {
    if (!route.has("hedge")) {
      return Optional.empty();
    }
    return route.object("hedge").map(HedgeReader::read);
  }

  private static HedgePolicy read(ObjectReader h) {
    String after = h.string("after", "p95").trim().toLowerCase(Locale.ROOT);
    Duration fixed = null;
    double percentile = 0;
    Matcher p = PERCENTILE.matcher(after);
    if (p.matches() && Double.parseDouble(p.group(1)) > 0) {
      percentile = Double.parseDouble(p.group(1));
    } else {
      fixed = delay(h, after);
    }
    int max = h.integer("max", 1, 1);
    if (max > HedgePolicy.MAX_HEDGES) {
      h.problem("max", max + " is too large (expected: 1-" + HedgePolicy.MAX_HEDGES + ")");
      max = HedgePolicy.MAX_HEDGES;
    }
    String to = h.string("to", "next-region").trim().toLowerCase(Locale.ROOT);
    HedgePolicy.Target target = switch (to) {
      case "next-region" -> HedgePolicy.Target.NEXT_REGION;
      case "same-region" -> HedgePolicy.Target.SAME_REGION;
      default -> {
        h.problem("to", "'" + to + "' (expected: next-region or same-region)");
        yield HedgePolicy.Target.NEXT_REGION;
      }
    };
    return new HedgePolicy(fixed, percentile, max, target);
  }

  /** A positive duration such as {@code 50ms}; anything else is a problem (and 50ms stands in). */
  private static Duration delay(ObjectReader h, String text) {
    if (!text.isEmpty() && Character.isDigit(text.charAt(0))) {
      return h.duration("after");
    }
    h.problem("after", "'" + text + "' (expected: a positive duration such as 50ms, or a latency percentile"
        + " such as p95)");
    return Duration.ofMillis(50);
  }
}
