package dev.meridian.proxy.routing;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A route's edge cache ({@code routes[].cache}): how long answers stay fresh, what the cache key holds
 * and which requests and answers may be stored. Read from the configuration by the config package.
 *
 * @param ttl             freshness when the origin gives none (default 5m); 0: only what the origin says
 * @param honorOrigin     the origin's Cache-Control, Expires and Age win over {@code ttl} (default true)
 * @param staleIfError    how long past freshness an entry may answer when the origin fails (5xx, timeout,
 *                        connect failure); 0: never (default 0)
 * @param staleWhileRevalidate how long past freshness an entry may answer at once while one background
 *                        request refreshes it; 0: never (default 0)
 * @param keyHeaders      request headers (lower case) added to the key, beyond what {@code Vary} adds
 * @param keyQuery        which query parameters are in the key
 * @param keyQueryNames   the parameters kept when {@code keyQuery} is {@link KeyQuery#LISTED}
 * @param authenticated   what happens to requests with {@code Cookie} or {@code Authorization}
 * @param cacheableStatus the response statuses that may be stored (default 200, 203, 204, 301, 404, 410)
 * @param targetedFields  the targeted cache-control fields (RFC 9213; lower case) whose first valid one
 *                        replaces the origin's Cache-Control and Expires (default: cdn-cache-control)
 */
public record CachePolicy(Duration ttl, boolean honorOrigin, Duration staleIfError, Duration staleWhileRevalidate,
    List<String> keyHeaders,
    KeyQuery keyQuery, Set<String> keyQueryNames, Authenticated authenticated, Set<Integer> cacheableStatus,
    List<String> targetedFields) {

  /** Which query parameters are part of the cache key. */
  public enum KeyQuery {
    /** The whole query, parameters sorted. */
    ALL,
    /** None: {@code /a?x=1} and {@code /a?x=2} share an entry. */
    NONE,
    /** Only the listed parameters, sorted. */
    LISTED
  }

  /** What happens to a request that carries {@code Cookie} or {@code Authorization}. */
  public enum Authenticated {
    /** It goes to the origin, neither answered from nor stored in the cache (the default). */
    BYPASS,
    /**
     * It may be answered from the cache, and its answer stored only when the origin marks it
     * {@code public} or gives {@code s-maxage}; the credentials are never part of the key.
     */
    CACHE_PUBLIC_ONLY
  }

  /** Copies the collections. */
  public CachePolicy {
    keyHeaders = List.copyOf(keyHeaders);
    keyQueryNames = Set.copyOf(keyQueryNames);
    cacheableStatus = Set.copyOf(cacheableStatus);
    targetedFields = List.copyOf(targetedFields);
  }
}
