package dev.meridian.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One cached route's counters, registered up front so recording allocates nothing:
 * <ul>
 *   <li>{@code meridian_cache_requests_total{route, result}}: {@code hit} (fresh, including 304s
 *       answered from an entry), {@code miss}, {@code expired} (a stale entry, the origin asked),
 *       {@code stale} (a stale entry answered because the origin failed), {@code revalidated} (a
 *       stale entry the origin confirmed with a 304; also counted as {@code expired}), {@code bypass};</li>
 *   <li>{@code meridian_cache_bypasses_total{route, reason}}: requests the cache stood aside for
 *       ({@link #BYPASS_REASONS});</li>
 *   <li>{@code meridian_cache_coalesced_total{route}}: misses that waited for another request's origin
 *       answer;</li>
 *   <li>{@code meridian_cache_stores_total{route}} and {@code meridian_cache_not_stored_total{route,
 *       reason}}: origin answers stored, and why the others were not ({@link #NOT_STORED_REASONS}).</li>
 * </ul>
 * Thread-safe.
 */
public final class CacheMeters {
  /** Why a request bypasses the cache. */
  public static final List<String> BYPASS_REASONS = List.of("method", "upgrade", "range", "authenticated",
      "override-header", "request-body", "ambiguous-header", "precondition");
  /** Why an origin answer was not stored. */
  public static final List<String> NOT_STORED_REASONS = List.of("status", "no-store", "private", "no-cache",
      "set-cookie", "vary-star", "authenticated", "no-freshness", "too-large", "trailers", "incomplete",
      "ambiguous-header", "request-body", "vary-too-long", "request-no-store");

  private final Counter hit;
  private final Counter miss;
  private final Counter expired;
  private final Counter revalidated;
  private final Counter stale;
  private final Counter bypass;
  private final Counter stores;
  private final Counter coalesced;
  private final Counter invalidations;
  private final Map<String, Counter> bypasses = new ConcurrentHashMap<>();
  private final Map<String, Counter> notStored = new ConcurrentHashMap<>();

  CacheMeters(MeterRegistry registry, String route) {
    this.hit = result(registry, route, "hit");
    this.miss = result(registry, route, "miss");
    this.expired = result(registry, route, "expired");
    this.revalidated = result(registry, route, "revalidated");
    this.stale = result(registry, route, "stale");
    this.bypass = result(registry, route, "bypass");
    this.coalesced = Counter.builder("meridian.cache.coalesced")
        .description("Misses that waited for another request's origin answer instead of asking the origin")
        .tag("route", route).register(registry);
    this.invalidations = Counter.builder("meridian.cache.invalidations")
        .description("Entries removed because an unsafe request (POST, PUT, DELETE, ...) to their URL succeeded")
        .tag("route", route).register(registry);
    this.stores = Counter.builder("meridian.cache.stores").description("Origin answers stored in the edge cache")
        .tag("route", route).register(registry);
    for (String reason : BYPASS_REASONS) {
      bypasses.put(reason, Counter.builder("meridian.cache.bypasses")
          .description("Requests of cached routes the cache stood aside for, by reason")
          .tag("route", route).tag("reason", reason).register(registry));
    }
    for (String reason : NOT_STORED_REASONS) {
      notStored.put(reason, Counter.builder("meridian.cache.not.stored")
          .description("Origin answers of cached routes not stored, by reason")
          .tag("route", route).tag("reason", reason).register(registry));
    }
  }

  private static Counter result(MeterRegistry registry, String route, String result) {
    return Counter.builder("meridian.cache.requests").description("Requests of cached routes by cache result")
        .tag("route", route).tag("result", result).register(registry);
  }

  /** A fresh entry answered. */
  public void hit() {
    hit.increment();
  }

  /** Nothing stored: the origin answers. */
  public void miss() {
    miss.increment();
  }

  /** A stale entry: the origin answers. */
  public void expired() {
    expired.increment();
  }

  /** A stale entry the origin confirmed (304) answered. */
  public void revalidated() {
    revalidated.increment();
  }

  /** A stale entry answered because the origin failed. */
  public void stale() {
    stale.increment();
  }

  /** The cache stood aside, for one of {@link #BYPASS_REASONS}. */
  public void bypass(String reason) {
    bypass.increment();
    bypasses.get(reason).increment();
  }

  /** A miss waited for another request's origin answer. */
  public void coalesced() {
    coalesced.increment();
  }

  /** Entries removed after an unsafe request to their URL succeeded (RFC 9111 section 4.4). */
  public void invalidated(int entries) {
    invalidations.increment(entries);
  }

  /** An origin answer was stored. */
  public void stored() {
    stores.increment();
  }

  /** An origin answer was not stored, for one of {@link #NOT_STORED_REASONS}. */
  public void notStored(String reason) {
    notStored.get(reason).increment();
  }
}
