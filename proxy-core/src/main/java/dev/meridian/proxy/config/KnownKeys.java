package dev.meridian.proxy.config;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Reports every key under {@code meridian} that Meridian does not know, so that a typo such as
 * {@code path-prefx} is an error rather than a silently ignored setting.
 *
 * <p>Fixed sections (server, limits, ...) are checked against the structure of
 * {@code reference.conf}. Objects whose keys {@code reference.conf} cannot show (list elements and
 * the entries of a map keyed by user-chosen names) are described by {@link #ELEMENT_KEYS}: adding a
 * key there is one line. A pattern ending in {@code .*} marks its parent as a map; {@code []} marks
 * the elements of a list.
 */
final class KnownKeys {
  static final Map<String, List<String>> ELEMENT_KEYS = Map.ofEntries(
      Map.entry("meridian.listeners[]", List.of("name", "address", "tls", "proxy-protocol-from", "max-connections")),
      Map.entry("meridian.listeners[].tls", List.of("certificates", "client-auth", "client-ca", "ocsp-response")),
      Map.entry("meridian.listeners[].tls.certificates[]", List.of("cert", "key")),
      Map.entry("meridian.backend-groups.*", List.of("strategy", "backends", "regions", "hash", "ewma-decay",
          "health", "tls", "protocol", "limits", "proxy-protocol", "backends-file")),
      Map.entry("meridian.backend-groups.*.limits", List.of("max-connections", "max-pending", "queue-timeout")),
      Map.entry("meridian.backend-groups.*.tls", List.of(
          "enabled", "trust", "server-name", "verify-hostname", "client-cert", "client-key")),
      Map.entry("meridian.backend-groups.*.health", List.of(
          "active", "passive", "latency-outlier", "slow-start", "replication-lag")),
      Map.entry("meridian.backend-groups.*.health.active", List.of("type", "path", "expect-status",
          "body-contains", "host", "interval", "down-interval", "timeout", "rise", "fall", "initial", "port",
          "method", "headers")),
      Map.entry("meridian.backend-groups.*.health.passive", List.of("consecutive-5xx",
          "consecutive-gateway-failures", "base-ejection-time", "max-ejection-time", "max-ejection-percent",
          "eject-on-connect-refused")),
      Map.entry("meridian.backend-groups.*.health.latency-outlier", List.of("factor", "window")),
      Map.entry("meridian.backend-groups.*.health.replication-lag", List.of("header", "max")),
      Map.entry("meridian.backend-groups.*.backends[]", List.of("id", "address", "dns", "srv", "kubernetes", "region",
          "zone", "weight")),
      Map.entry("meridian.backend-groups.*.backends[].kubernetes", List.of("namespace", "service", "port")),
      Map.entry("meridian.discovery.kubernetes.zones.*", List.of()),
      Map.entry("meridian.backend-groups.*.regions", List.of(
          "failover", "spill-over", "latency-margin", "writer", "read-your-writes", "panic-threshold")),
      Map.entry("meridian.backend-groups.*.hash", List.of("key", "algorithm", "bounded-load")),
      Map.entry("meridian.routes[]", List.of(
          "name", "host", "path-prefix", "methods", "backend-group", "rewrite-host", "upgrades", "tunnel-idle", "response-headers", "response-deadline", "residency",
          "retries", "sticky", "cache", "hedge")),
      Map.entry("meridian.routes[].hedge", List.of("after", "max", "to")),
      Map.entry("meridian.routes[].cache", List.of("ttl", "honor-origin", "stale-if-error", "stale-while-revalidate", "targeted-fields", "key-headers",
          "key-query", "authenticated", "cacheable-status")),
      Map.entry("meridian.routes[].sticky", List.of("mode", "cookie", "ttl", "secure", "http-only", "same-site",
          "path", "domain", "app-cookie", "strict")),
      Map.entry("meridian.routes[].retries", List.of("attempts", "on", "budget", "min-per-second", "max-replay-body")),
      Map.entry("meridian.routes[].residency", List.of("header", "regions")),
      Map.entry("meridian.geo.countries.*", List.of()),
      Map.entry("meridian.geo.networks[]", List.of("cidr", "region")));

  private final Problems problems;

  private KnownKeys(Problems problems) {
    this.problems = problems;
  }

  /** Records an "unknown key" problem for each key of {@code meridian} not in {@code reference}. */
  static void check(ConfigObject meridian, ConfigObject reference, Problems problems) {
    new KnownKeys(problems).walk(meridian, "meridian", "meridian", reference);
  }

  /**
   * Checks the keys of {@code node}; {@code pattern} is its path with map names replaced by
   * {@code *} and list indexes by {@code []}, {@code ref} is the matching reference object if any.
   */
  private void walk(ConfigObject node, String pattern, String path, ConfigObject ref) {
    List<String> allowed = ELEMENT_KEYS.get(pattern);
    if (allowed == null && ref == null) {
      return;
    }
    if (allowed == null) {
      allowed = List.copyOf(new TreeSet<>(ref.keySet()));
    }
    for (Map.Entry<String, ConfigValue> e : node.entrySet()) {
      String key = e.getKey();
      if (!allowed.contains(key)) {
        problems.add(e.getValue().origin(), path + "." + key,
            "unknown key (expected: one of " + String.join(", ", allowed) + ")");
        continue;
      }
      ConfigValue refChild = ref != null ? ref.get(key) : null;
      walkValue(e.getValue(), pattern + "." + key, path + "." + key,
          refChild instanceof ConfigObject o ? o : null);
    }
  }

  private void walkValue(ConfigValue value, String pattern, String path, ConfigObject ref) {
    if (value instanceof ConfigObject object && ELEMENT_KEYS.containsKey(pattern + ".*")) {
      for (Map.Entry<String, ConfigValue> entry : object.entrySet()) {
        if (entry.getValue() instanceof ConfigObject o) {
          walk(o, pattern + ".*", path + "." + entry.getKey(), null);
        }
      }
    } else if (value instanceof ConfigObject object) {
      walk(object, pattern, path, ref);
    } else if (value instanceof ConfigList list) {
      for (int i = 0; i < list.size(); i++) {
        if (list.get(i) instanceof ConfigObject o) {
          walk(o, pattern + "[]", path + "[" + i + "]", null);
        }
      }
    }
  }
}
