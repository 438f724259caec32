package dev.meridian.proxy.config;

import dev.meridian.proxy.routing.RetrySettings;
import dev.meridian.proxy.config.MeridianSettings.RouteSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads {@code meridian.routes}: host patterns, path prefixes, methods and upgrades are checked for
 * form, and each route must name an existing backend group.
 */
final class RouteReader {
  /** An RFC 9110 token, the syntax of a method and of an upgrade protocol name. */
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  private static final String LABEL = "[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?";
  private static final Pattern HOST = Pattern.compile("(\\*\\.)?" + LABEL + "(\\." + LABEL + ")*");

  private RouteReader() {}

  /** Reads every route, in match order; {@code groups} are the names of the defined backend groups. */
  static List<RouteSettings> routes(ObjectReader meridian, Set<String> groups, int connectAttempts) {
    List<ObjectReader> elements = meridian.elements("routes", "{ path-prefix, backend-group, ... } objects");
    List<RouteSettings> out = new ArrayList<>();
    Map<String, String> names = new HashMap<>();
    for (int i = 0; i < elements.size(); i++) {
      ObjectReader r = elements.get(i);
      String name = r.string("name", "route-" + i);
      String clash = names.putIfAbsent(name, r.pathOf("name"));
      if (clash != null) {
        r.problem("name", "'" + name + "' is also the name of " + clash + " (expected: unique route names)");
      }
      out.add(new RouteSettings(name, host(r), pathPrefix(r), tokens(r, "methods", List.of(), true),
          backendGroup(r, groups), r.bool("rewrite-host", false),
          tokens(r, "upgrades", List.of("websocket"), false),
          r.has("tunnel-idle") ? Optional.of(r.duration("tunnel-idle")) : Optional.empty(),
          r.has("response-headers") ? Optional.of(r.duration("response-headers")) : Optional.empty(),
          r.has("response-deadline") ? Optional.of(r.durationOrZero("response-deadline", Duration.ZERO))
              : Optional.empty(),
          SteeringReader.residency(r),
          retries(r, connectAttempts), StickyReader.policy(r), CacheReader.policy(r),
          HedgeReader.policy(r)));
    }
    return StickyReader.separateCookies(elements, out);
  }

  private static final Set<String> RETRY_NAMES = Set.of("connect-failure", "reset-before-response", "timeout");
  /** What is retried without retries.on: a timeout is not (each try would wait the whole timeout again). */
  private static final Set<String> DEFAULT_RETRIED = Set.of("connect-failure", "reset-before-response");

  /** Reads {@code routes[].retries}; without it, connect failures and early resets are retried. */
  private static RetrySettings retries(ObjectReader route, int connectAttempts) {
    RetrySettings dflt = new RetrySettings(Math.max(0, connectAttempts - 1), DEFAULT_RETRIED, 0.2, 3, 64 * 1024);
    if (!route.has("retries")) {
      return dflt;
    }
    return route.object("retries").map(r -> {
      Set<String> on = new java.util.LinkedHashSet<>();
      for (String condition : r.strings("on", List.copyOf(DEFAULT_RETRIED))) {
        String c = condition.trim().toLowerCase(Locale.ROOT);
        if (!RETRY_NAMES.contains(c) && !c.matches("5[0-9][0-9]")) {
          r.problem("on", "'" + condition + "' (expected: connect-failure, reset-before-response, timeout or a 5xx status such as 503)");
        }
        on.add(c);
      }
      return new RetrySettings(r.integer("attempts", dflt.attempts(), 0), Set.copyOf(on),
          percent(r, "budget", 0.2), r.integer("min-per-second", 3, 0),
          r.has("max-replay-body") ? r.bytes("max-replay-body") : dflt.maxReplayBody());
    }).orElse(dflt);
  }

  /** A fraction written as {@code 20%} or {@code 0.2}. */
  private static double percent(ObjectReader r, String key, double dflt) {
    if (!r.has(key)) {
      return dflt;
    }
    String text = r.string(key, "").trim();
    try {
      double value = text.endsWith("%")
          ? Double.parseDouble(text.substring(0, text.length() - 1).trim()) / 100
          : Double.parseDouble(text);
      if (value < 0 || value > 1) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      r.problem(key, "'" + text + "' (expected: a percentage such as 20% or a fraction such as 0.2)");
      return dflt;
    }
  }

  private static Optional<String> host(ObjectReader r) {
    Optional<String> host = r.optionalString("host").map(h -> h.toLowerCase(Locale.ROOT));
    if (host.isPresent() && !HOST.matcher(host.get()).matches()) {
      r.problem("host", "'" + host.get() + "' is not a host pattern "
          + "(expected: an exact name such as api.example.com, or *.example.com; leave out host to match any)");
    }
    return host;
  }

  private static String pathPrefix(ObjectReader r) {
    String prefix = r.string("path-prefix", "/");
    if (!prefix.startsWith("/")) {
      r.problem("path-prefix", "'" + prefix + "' does not start with / (expected: a path such as /api/)");
    }
    return prefix;
  }

  private static List<String> tokens(ObjectReader r, String key, List<String> dflt, boolean upper) {
    List<String> out = new ArrayList<>();
    for (String s : r.strings(key, dflt)) {
      if (!TOKEN.matcher(s).matches()) {
        r.problem(key, "'" + s + "' is not a token (expected: names such as "
            + (upper ? "GET, POST" : "websocket, h2c") + ")");
      }
      out.add(upper ? s.toUpperCase(Locale.ROOT) : s.toLowerCase(Locale.ROOT));
    }
    return List.copyOf(out);
  }

  private static String backendGroup(ObjectReader r, Set<String> groups) {
    String group = r.requiredString("backend-group").orElse("");
    if (r.has("backend-group") && !group.isEmpty() && !groups.contains(group)) {
      r.problem("backend-group", "no backend group '" + group + "' (expected: one of "
          + (groups.isEmpty() ? "the groups under backend-groups, none defined" : String.join(", ", groups)) + ")");
    }
    return group;
  }
}
