package dev.meridian.proxy.admin;

import dev.meridian.proxy.regions.RegionFault;
import dev.meridian.proxy.server.ProxyServer;
import io.netty.handler.codec.http.HttpMethod;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin API's run-time controls, each logged by the proxy: a region's traffic dial, ejecting and
 * restoring a region or a backend, draining a backend, injecting or clearing a fault, and purging the
 * edge cache. Every change but a restore takes
 * an optional {@code ttl} after which it undoes itself (drills always set one).
 *
 * <pre>
 * POST   /admin/api/regions/GROUP/REGION/dial?percent=0-100[&amp;ttl=30s]
 * POST   /admin/api/regions/GROUP/REGION/eject[?ttl=30s]      POST .../restore
 * POST   /admin/api/regions/GROUP/REGION/fault?delay=200ms[&amp;abort=503&amp;percent=10][&amp;ttl=30s]
 * DELETE /admin/api/regions/GROUP/REGION/fault                 (or POST .../fault/clear)
 * POST   /admin/api/backends/GROUP/ID/eject[?ttl=30s]         POST .../restore
 * POST   /admin/api/backends/[GROUP/]ID/drain[?duration=10m]  POST .../undrain
 * POST   /admin/api/cache/purge?url=URL|prefix=URL|tag=TAG|all=true
 * </pre>
 * A backend call may leave out the group when the id is in exactly one group.
 */
final class OperatorEndpoints {
  /** The answer to one call: an HTTP status and a JSON-able body (or a text error). */
  record Outcome(int status, Object body) {
    static Outcome ok(Object body) {
      return new Outcome(200, body);
    }

    static Outcome error(int status, String message) {
      return new Outcome(status, message);
    }
  }

  /** What the calls look like, for error answers and the admin index. */
  static final String USAGE = """
      POST   /admin/api/regions/GROUP/REGION/dial?percent=0-100[&ttl=30s]
      POST   /admin/api/regions/GROUP/REGION/eject[?ttl=30s]
      POST   /admin/api/regions/GROUP/REGION/restore
      POST   /admin/api/regions/GROUP/REGION/fault?delay=200ms[&abort=503&percent=10][&ttl=30s]
      DELETE /admin/api/regions/GROUP/REGION/fault   (or POST .../fault/clear)
      POST   /admin/api/backends/GROUP/ID/eject[?ttl=30s]
      POST   /admin/api/backends/GROUP/ID/restore
      POST   /admin/api/backends/[GROUP/]ID/drain[?duration=10m]   (sticky sessions kept, then out)
      POST   /admin/api/backends/[GROUP/]ID/undrain
      POST   /admin/api/cache/purge?url=https://host/path?q | prefix=https://host/path | tag=TAG | all=true
      """;

  private static final String CACHE_PURGE = "/admin/api/cache/purge";
  private static final java.util.Set<String> PURGE_PARAMETERS = java.util.Set.of("url", "prefix", "tag", "all");

  private final ProxyServer proxy;

  OperatorEndpoints(ProxyServer proxy) {
    this.proxy = proxy;
  }

  /** Whether the request is one of these calls (by method and path prefix). */
  static boolean handles(HttpMethod method, String path) {
    boolean controls = path.startsWith("/admin/api/regions/") || path.startsWith("/admin/api/backends/")
        || path.equals(CACHE_PURGE);
    return controls && (method.equals(HttpMethod.POST) || method.equals(HttpMethod.DELETE));
  }

  /** Carries out one call. */
  Outcome handle(HttpMethod method, String path, Map<String, List<String>> query) {
    if (path.equals(CACHE_PURGE)) {
      return purge(method, query);
    }
    boolean regions = path.startsWith("/admin/api/regions/");
    String[] parts = path.substring(regions ? "/admin/api/regions/".length() : "/admin/api/backends/".length())
        .split("/");
    boolean groupless = !regions && parts.length == 2;
    if ((parts.length < 3 || parts.length > 4) && !groupless) {
      return Outcome.error(404, "no such call: " + method + " " + path + "\nexpected one of:\n" + USAGE);
    }
    try {
      String group = groupless ? proxy.operator().groupOf(parts[0]) : parts[0];
      String target = groupless ? parts[0] : parts[1];
      String action = groupless ? parts[1] : parts.length == 4 ? parts[2] + "/" + parts[3] : parts[2];
      if (!regions && (action.equals("drain") || action.equals("undrain"))) {
        return drainCall(method, group, target, action, query);
      }
      Duration ttl = query.containsKey("ttl") ? DurationParam.parse("ttl", first(query, "ttl")) : Duration.ZERO;
      if (!regions) {
        return backendCall(method, group, target, action, ttl);
      }
      return regionCall(method, group, target, action, ttl, query);
    } catch (IllegalArgumentException e) {
      return Outcome.error(400, e.getMessage());
    }
  }

  private Outcome regionCall(HttpMethod method, String group, String region, String action, Duration ttl,
      Map<String, List<String>> query) {
    if (method.equals(HttpMethod.DELETE) && action.equals("fault") || action.equals("fault/clear")) {
      boolean was = proxy.operator().clearFault(group, region);
      return Outcome.ok(result("fault", was ? "cleared" : "none was set", group, region));
    }
    if (!method.equals(HttpMethod.POST)) {
      return Outcome.error(405, "use POST for " + action + "\n" + USAGE);
    }
    switch (action) {
      case "dial" -> {
        String percent = first(query, "percent");
        int value;
        try {
          value = Integer.parseInt(percent == null ? "" : percent.trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("percent: '" + percent + "' (expected: 0-100)");
        }
        proxy.operator().setDial(group, region, value, ttl);
        return Outcome.ok(proxy.selectors().get(group).dials());
      }
      case "eject" -> {
        int n = proxy.operator().ejectRegion(group, region, ttl);
        return Outcome.ok(result("eject", n + " backends out", group, region));
      }
      case "restore" -> {
        int n = proxy.operator().restoreRegion(group, region);
        return Outcome.ok(result("restore", n + " backends back", group, region));
      }
      case "fault" -> {
        Duration delay = query.containsKey("delay") ? DurationParam.parse("delay", first(query, "delay")) : Duration.ZERO;
        int status = 0;
        double share = 0;
        if (query.containsKey("abort")) {
          status = parseInt("abort", first(query, "abort"));
          share = query.containsKey("percent") ? parseDouble("percent", first(query, "percent")) / 100 : 1.0;
        }
        RegionFault fault = new RegionFault(delay.toNanos(), status, share);
        proxy.operator().injectFault(group, region, fault, ttl);
        return Outcome.ok(result("fault", fault.describe(), group, region));
      }
      default -> {
        return Outcome.error(404, "no such call: " + action + "\nexpected one of:\n" + USAGE);
      }
    }
  }

  private Outcome backendCall(HttpMethod method, String group, String backend, String action, Duration ttl) {
    if (!method.equals(HttpMethod.POST)) {
      return Outcome.error(405, "use POST for " + action + "\n" + USAGE);
    }
    switch (action) {
      case "eject" -> proxy.operator().ejectBackend(group, backend, ttl);
      case "restore" -> proxy.operator().restoreBackend(group, backend);
      default -> {
        return Outcome.error(404, "no such call: " + action + "\nexpected one of:\n" + USAGE);
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("group", group);
    out.put("backend", backend);
    out.put(action, "done");
    return Outcome.ok(out);
  }

  /**
   * An http(s) URL as cache entries hold it (the scheme lower case, the host as {@code CacheKeys.host}
   * makes it: lower case, no trailing dot, the port as a number, no default port), or null when it is
   * not one: {@code HTTP://X.TEST:80/p} purges what {@code http://x.test/p} holds.
   */
  static String canonicalUrl(String url) {
    int colon = url.indexOf("://");
    if (colon < 0) {
      return null;
    }
    String scheme = url.substring(0, colon).toLowerCase(java.util.Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return null;
    }
    int hostStart = colon + 3;
    int pathStart = url.indexOf('/', hostStart);
    String authority = pathStart < 0 ? url.substring(hostStart) : url.substring(hostStart, pathStart);
    if (authority.isEmpty()) {
      return null;
    }
    return scheme + "://" + dev.meridian.proxy.cache.CacheKeys.host(authority, scheme)
        + (pathStart < 0 ? "" : url.substring(pathStart));
  }

  /** {@code POST /admin/api/cache/purge?url=|prefix=|tag=|all=true}: removes entries, says how many. */
  private Outcome purge(HttpMethod method, Map<String, List<String>> query) {
    if (!method.equals(HttpMethod.POST)) {
      return Outcome.error(405, "use POST for purge\n" + USAGE);
    }
    List<String> unknown = query.keySet().stream().filter(k -> !PURGE_PARAMETERS.contains(k)).sorted().toList();
    if (!unknown.isEmpty()) {
      // Most often the rest of a url= whose query was not percent-encoded: purging the cut URL would
      // purge nothing and say so quietly.
      return Outcome.error(400, "purge takes url=, prefix=, tag= or all=true, not " + String.join(", ", unknown)
          + " (a URL with a query goes percent-encoded: ?a=1&b=2 as %3Fa%3D1%26b%3D2,"
          + " e.g. curl -X POST -G --data-urlencode url=...)\n");
    }
    String tag = first(query, "tag");
    if (tag != null && tag.isBlank()) {
      // No entry has an empty tag: the purge would remove nothing and say so quietly.
      return Outcome.error(400, "tag= takes a tag an answer's Cache-Tag or Surrogate-Key named, not an empty one\n");
    }
    query = new LinkedHashMap<>(query);
    for (String key : List.of("url", "prefix")) {
      String given = first(query, key);
      if (given == null) {
        continue;
      }
      String canonical = canonicalUrl(given);
      if (canonical == null) {
        // Entries are keyed by absolute URL: a bare path would purge nothing and say so quietly.
        return Outcome.error(400, key + "= takes an absolute URL, scheme and host included (e.g. " + key
            + "=https://shop.example/static/app.css), not " + dev.meridian.proxy.http.LogText.printable(given) + "\n");
      }
      query.put(key, List.of(canonical));
    }
    dev.meridian.proxy.cache.EdgeCache cache = proxy.cache();
    Map<String, Object> out = new LinkedHashMap<>();
    int purged;
    if (first(query, "url") != null) {
      out.put("url", first(query, "url"));
      purged = cache.purgeUrl(first(query, "url"));
    } else if (first(query, "prefix") != null) {
      out.put("prefix", first(query, "prefix"));
      purged = cache.purgePrefix(first(query, "prefix"));
    } else if (first(query, "tag") != null) {
      out.put("tag", first(query, "tag"));
      purged = cache.purgeTag(first(query, "tag"));
    } else if ("true".equals(first(query, "all"))) {
      out.put("all", true);
      purged = cache.purgeAll();
    } else {
      return Outcome.error(400, "purge needs url=, prefix=, tag= or all=true\n" + USAGE);
    }
    out.put("purged", purged);
    proxy.logPurge(out);
    return Outcome.ok(out);
  }

  private Outcome drainCall(HttpMethod method, String group, String backend, String action,
      Map<String, List<String>> query) {
    if (!method.equals(HttpMethod.POST)) {
      return Outcome.error(405, "use POST for " + action + "\n" + USAGE);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("group", group);
    out.put("backend", backend);
    if (action.equals("drain")) {
      Duration duration = query.containsKey("duration")
          ? DurationParam.parse("duration", first(query, "duration")) : Duration.ZERO;
      proxy.operator().drainBackend(group, backend, duration);
      out.put("drain", duration.isZero() ? "sticky sessions kept until undrained"
          : "sticky sessions kept for " + duration.toMillis() + " ms, then out");
    } else {
      proxy.operator().undrainBackend(group, backend);
      out.put("undrain", "done");
    }
    return Outcome.ok(out);
  }

  private static Map<String, Object> result(String action, String what, String group, String region) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("group", group);
    out.put("region", region);
    out.put(action, what);
    return out;
  }

  private static String first(Map<String, List<String>> query, String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static int parseInt(String name, String text) {
    try {
      return Integer.parseInt(text == null ? "" : text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": '" + text + "' (expected: a whole number)");
    }
  }

  private static double parseDouble(String name, String text) {
    try {
      return Double.parseDouble(text == null ? "" : text.trim().replace("%", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": '" + text + "' (expected: a number 0-100)");
    }
  }
}
