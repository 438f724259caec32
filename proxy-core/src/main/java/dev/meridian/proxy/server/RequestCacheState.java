package dev.meridian.proxy.server;

import dev.meridian.proxy.cache.CacheFill;
import dev.meridian.proxy.cache.CachedResponse;
import dev.meridian.proxy.cache.MissCoalescer;
import java.util.List;

/**
 * The edge cache's part in one request: its key, what the lookup found, the fill it leads or feeds,
 * and the entries an unsafe request's success removes. An {@link Exchange} holds one only when the
 * cache had a part in its request (a cached route, or an unsafe request to a cached URL), so a
 * request on an uncached route carries none of this. Read and written by {@link EdgeCachePhase} and
 * the classes it hands a request to, on the connection's event loop.
 */
final class RequestCacheState {
  /** The request's cache key, or null when the cache keeps no entry for it (a bypass, a range). */
  String key;
  /** {@code scheme://host/target} of the request, for purges. */
  String url;
  /** What the cache did: HIT, STALE, REVALIDATED (answered), MISS, EXPIRED, BYPASS (sent to the origin); X-Cache. */
  String status;
  /** The cache answered the request (no backend, no region counted). */
  boolean answered;
  /** A stale entry that may answer if the origin fails (stale-if-error), or null. */
  CachedResponse stale;
  /** The origin's answer being stored as it streams through, or null. */
  CacheFill fill;
  /** The stale entry this request asks the origin to confirm (its validators were sent), or null. */
  CachedResponse revalidate;
  /** The fill this request leads (concurrent misses wait for its answer), or null. */
  MissCoalescer.Fill lead;
  /** The cache keys an unsafe request's success removes, or null. */
  List<EdgeCachePhase.Invalidation> invalidates;
  /** Whether the origin's answer should be stored if it may be (a GET that looked up the cache). */
  boolean fillWanted;
  /** The client asked for {@code bytes=0-}: the origin is asked for the whole, which answers as a 206. */
  boolean wholeAsRange;
  /** Whether the request carried credentials (its answer is stored only if public). */
  boolean authenticated;
}
