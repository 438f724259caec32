package dev.meridian.proxy.config;

import dev.meridian.health.ActiveCheckSettings;
import dev.meridian.health.PassiveSettings;
import dev.meridian.proxy.config.MeridianSettings.HealthSettings;
import java.time.Duration;
import java.util.Optional;

/** Reads {@code backend-groups.NAME.health}: active checks, passive detection, slow start, replication lag. */
final class HealthReader {
  private HealthReader() {}

  /** Reads a group's health settings; passive detection is on with its defaults when absent. */
  static HealthSettings health(ObjectReader group) {
    HealthSettings none = new HealthSettings(Optional.empty(), PassiveSettings.DEFAULTS, Duration.ZERO);
    if (!group.has("health")) {
      return none;
    }
    return group.object("health").map(h -> {
      Optional<ActiveCheckSettings> active = h.has("active") ? h.object("active").map(a -> active(a, h)) : Optional.empty();
      if (active.isEmpty() && h.has("replication-lag")) {
        h.problem("replication-lag", "needs active checks to read the lag (expected: health.active { ... } as well)");
      }
      return new HealthSettings(active, passive(h), h.durationOrZero("slow-start", Duration.ZERO));
    }).orElse(none);
  }

  private static ActiveCheckSettings active(ObjectReader a, ObjectReader health) {
    ActiveCheckSettings d = ActiveCheckSettings.DEFAULTS;
    String type = a.string("type", "http");
    if (!type.equals("http") && !type.equals("tcp")) {
      a.problem("type", "'" + type + "' (expected: http or tcp)");
      type = "http";
    }
    String status = a.string("expect-status", "200-399").trim();
    int from = 200;
    int to = 399;
    try {
      int dash = status.indexOf('-');
      from = Integer.parseInt(dash < 0 ? status : status.substring(0, dash).trim());
      to = dash < 0 ? from : Integer.parseInt(status.substring(dash + 1).trim());
      if (from < 100 || to > 599 || from > to) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      a.problem("expect-status", "'" + status + "' (expected: a status or a range such as 200-399)");
      from = 200;
      to = 399;
    }
    String initial = a.string("initial", "available");
    if (!initial.equals("available") && !initial.equals("unavailable")) {
      a.problem("initial", "'" + initial + "' (expected: available or unavailable)");
    }
    Duration interval = a.has("interval") ? a.duration("interval") : d.interval();
    Optional<String> lagHeader = Optional.empty();
    Duration maxLag = d.maxReplicationLag();
    if (health.has("replication-lag")) {
      Optional<ObjectReader> lag = health.object("replication-lag");
      if (lag.isPresent()) {
        lagHeader = Optional.of(lag.get().string("header", "X-Replication-Lag"));
        maxLag = lag.get().has("max") ? lag.get().duration("max") : maxLag;
      }
    }
    try {
      return new ActiveCheckSettings(type, a.string("path", d.path()), from, to, a.optionalString("body-contains"),
          a.optionalString("host"), interval, a.has("down-interval") ? a.duration("down-interval") : null,
          a.has("timeout") ? a.duration("timeout") : d.timeout(), a.integer("rise", d.rise(), 1),
          a.integer("fall", d.fall(), 1), !initial.equals("unavailable"), lagHeader, maxLag,
          a.integer("port", 0, 0), a.string("method", d.method()).toUpperCase(java.util.Locale.ROOT),
          a.has("headers") ? a.stringMap("headers") : java.util.Map.of());
    } catch (IllegalArgumentException e) {
      a.problem("", e.getMessage());
      return d;
    }
  }

  private static PassiveSettings passive(ObjectReader health) {
    PassiveSettings d = PassiveSettings.DEFAULTS;
    double factor = d.latencyFactor();
    Duration window = d.latencyWindow();
    if (health.has("latency-outlier")) {
      Optional<ObjectReader> l = health.object("latency-outlier");
      if (l.isPresent()) {
        factor = l.get().decimal("factor", 3.0, 1.01, 1000);
        window = l.get().has("window") ? l.get().duration("window") : Duration.ofSeconds(30);
      }
    }
    if (!health.has("passive")) {
      return new PassiveSettings(d.consecutive5xx(), d.consecutiveGatewayFailures(), d.baseEjectionTime(),
          d.maxEjectionTime(), d.maxEjectionPercent(), factor, window, d.ejectOnConnectRefused());
    }
    double latencyFactor = factor;
    Duration latencyWindow = window;
    return health.object("passive").map(p -> {
      try {
        return new PassiveSettings(p.integer("consecutive-5xx", d.consecutive5xx(), 0),
            p.integer("consecutive-gateway-failures", d.consecutiveGatewayFailures(), 1),
            p.has("base-ejection-time") ? p.duration("base-ejection-time") : d.baseEjectionTime(),
            p.has("max-ejection-time") ? p.duration("max-ejection-time") : d.maxEjectionTime(),
            p.integer("max-ejection-percent", d.maxEjectionPercent(), 0), latencyFactor, latencyWindow,
            p.bool("eject-on-connect-refused", d.ejectOnConnectRefused()));
      } catch (IllegalArgumentException e) {
        p.problem("", e.getMessage());
        return d;
      }
    }).orElse(d);
  }
}
