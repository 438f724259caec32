package dev.meridian.proxy.config;

import dev.meridian.proxy.config.MeridianSettings.CacheSettings;
import dev.meridian.proxy.routing.CachePolicy;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** Reads {@code meridian.cache} and {@code routes[].cache}, checking sizes, names and statuses. */
final class CacheReader {
  private static final List<Integer> DEFAULT_STATUS = List.of(200, 203, 204, 301, 404, 410);

  private CacheReader() {}

  /** {@code meridian.cache}: the memory bound and the largest body stored. */
  static CacheSettings settings(ObjectReader meridian) {
    ObjectReader cache = meridian.section("cache");
    long maxSize = cache.largeBytes("max-size");
    int maxObject = cache.bytes("max-object-size");
    if (maxObject > maxSize) {
      cache.problem("max-object-size", maxObject + " bytes is more than max-size " + maxSize
          + " (expected: at most max-size)");
    }
    return new CacheSettings(maxSize, maxObject);
  }

  /** A route's {@code cache} object, if it has one. */
  static Optional<CachePolicy> policy(ObjectReader route) {
    if (!route.has("cache")) {
      return Optional.empty();
    }
    return route.object("cache").map(CacheReader::read);
  }

  private static CachePolicy read(ObjectReader c) {
    Duration ttl = c.durationOrZero("ttl", Duration.ofMinutes(5));
    Duration staleIfError = c.durationOrZero("stale-if-error", Duration.ZERO);
    Duration staleWhileRevalidate = c.durationOrZero("stale-while-revalidate", Duration.ZERO);
    List<String> keyHeaders = c.headerNames("key-headers", "Accept-Language");
    CachePolicy.KeyQuery keyQuery = CachePolicy.KeyQuery.ALL;
    Set<String> keyQueryNames = Set.of();
    if (c.has("key-query") && c.isListOrAbsent("key-query")) {
      keyQuery = CachePolicy.KeyQuery.LISTED;
      keyQueryNames = new LinkedHashSet<>(c.strings("key-query", List.of()));
    } else {
      String mode = c.string("key-query", "all").trim().toLowerCase(Locale.ROOT);
      switch (mode) {
        case "all" -> keyQuery = CachePolicy.KeyQuery.ALL;
        case "none" -> keyQuery = CachePolicy.KeyQuery.NONE;
        default -> c.problem("key-query", "'" + mode + "' (expected: all, none, or a list of parameter names)");
      }
    }
    String auth = c.string("authenticated", "bypass").trim().toLowerCase(Locale.ROOT);
    CachePolicy.Authenticated authenticated = switch (auth) {
      case "bypass" -> CachePolicy.Authenticated.BYPASS;
      case "cache-public-only" -> CachePolicy.Authenticated.CACHE_PUBLIC_ONLY;
      default -> {
        c.problem("authenticated", "'" + auth + "' (expected: bypass or cache-public-only)");
        yield CachePolicy.Authenticated.BYPASS;
      }
    };
    Set<Integer> statuses = new LinkedHashSet<>();
    for (String s : c.strings("cacheable-status", DEFAULT_STATUS.stream().map(String::valueOf).toList())) {
      int code;
      try {
        code = Integer.parseInt(s.trim());
      } catch (NumberFormatException e) {
        code = -1;
      }
      if (code < 200 || code > 599 || code == 206) {
        c.problem("cacheable-status", "'" + s + "' (expected: final statuses 200-599 such as 200, 301, 404;"
            + " never 206)");
        continue;
      }
      statuses.add(code);
    }
    List<String> targetedFields = c.has("targeted-fields")
        ? c.headerNames("targeted-fields", "CDN-Cache-Control") : List.of("cdn-cache-control");
    return new CachePolicy(ttl, c.bool("honor-origin", true), staleIfError, staleWhileRevalidate, keyHeaders, keyQuery, keyQueryNames,
        authenticated, statuses, targetedFields);
  }
}
