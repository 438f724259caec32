package dev.meridian.proxy.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The edge cache's store: answers by cache key, each key holding the variants its answers {@code Vary}
 * on (at most {@value #MAX_VARIANTS}), bounded by the bytes they hold ({@code meridian.cache.max-size}).
 *
 * <p>Caffeine keeps the bound (a byte weigher, its frequency-aware eviction), which is why it is used
 * rather than a hand-written LRU. Bodies live in direct JDK buffers that the garbage collector frees
 * (see {@link CachedResponse}): nothing to release on eviction, and a hit writes a wrapper of the
 * stored buffer, which the native transport sends without a copy. Thread-safe; lookups take no lock.
 */
public final class EdgeCache {
  /** What {@link #varyValues} holds for a field the request does not have: no field value is a NUL. */
  public static final String ABSENT = "\0";

  /** Most variants kept per key; storing one more replaces the oldest. */
  public static final int MAX_VARIANTS = 16;
  /** The most characters the request values of a variant's Vary fields may have together to be stored. */
  public static final int MAX_VARY_CHARS = 4096;

  private final Cache<String, List<CachedResponse>> entries;
  private final long maxBytes;
  private final int maxObjectSize;
  private final LongSupplier nanoClock;
  private final LongAdder evictions = new LongAdder();
  private final MissCoalescer misses;

  /**
   * Creates an empty cache.
   *
   * @param maxBytes      the bound on what all entries hold
   * @param maxObjectSize the largest body stored; larger ones stream through uncached
   * @param nanoClock     the monotonic clock entries age by
   * @param waitLimitNanos how long concurrent misses wait for the one that went to the origin
   */
  public EdgeCache(long maxBytes, int maxObjectSize, LongSupplier nanoClock, long waitLimitNanos) {
    this.misses = new MissCoalescer(waitLimitNanos);
    this.maxBytes = maxBytes;
    this.maxObjectSize = maxObjectSize;
    this.nanoClock = nanoClock;
    this.entries = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .<String, List<CachedResponse>>weigher((key, variants) -> weight(key, variants))
        .removalListener((key, variants, cause) -> {
          if (cause.wasEvicted() && variants != null) {
            evictions.add(variants.size());
          }
        })
        .build();
  }

  private static int weight(String key, List<CachedResponse> variants) {
    long w = 64 + 2L * key.length();
    for (CachedResponse v : variants) {
      w += v.weight();
    }
    return (int) Math.min(Integer.MAX_VALUE, w);
  }

  /** Where concurrent misses for one key collapse into one origin request. */
  public MissCoalescer misses() {
    return misses;
  }

  /** The cache's clock, in nanoseconds. */
  public long nanoTime() {
    return nanoClock.getAsLong();
  }

  /** The largest body stored, in bytes. */
  public int maxObjectSize() {
    return maxObjectSize;
  }

  /** The entry for a key whose {@code Vary} headers match the request's, fresh or not; or null. */
  public CachedResponse lookup(String key, HttpHeaders request) {
    List<CachedResponse> variants = entries.getIfPresent(key);
    if (variants == null) {
      return null;
    }
    for (CachedResponse v : variants) {
      if (v.matches(varyValues(v.varyNames(), request))) {
        return v;
      }
    }
    return null;
  }

  /**
   * Stores an entry, replacing the variant of the same key stored for the same {@code Vary} values.
   * An entry for request values of its Vary fields longer than {@value #MAX_VARY_CHARS} characters in
   * all is not stored (no browser sends such an Accept-Encoding or Accept-Language; a client that
   * does would make each of its requests a variant holding them).
   */
  public void store(String key, CachedResponse entry) {
    if (!storableVaryValues(entry.varyValues())) {
      return; // (the fill is refused before it starts; a revalidated entry was stored with its values)
    }
    misses.stored(key);
    entries.asMap().compute(key, (k, variants) -> {
      List<CachedResponse> next = new ArrayList<>(variants == null ? 1 : variants.size() + 1);
      if (variants != null) {
        for (CachedResponse v : variants) {
          if (!(v.varyNames().equals(entry.varyNames()) && v.varyValues().equals(entry.varyValues()))) {
            next.add(v);
          }
        }
      }
      if (next.size() >= MAX_VARIANTS) {
        next.remove(0);
      }
      next.add(entry);
      return List.copyOf(next);
    });
  }

  /** Whether a variant for these request values of its Vary fields may be stored: {@value #MAX_VARY_CHARS} characters in all at most. */
  public static boolean storableVaryValues(List<String> varyValues) {
    int chars = 0;
    for (String value : varyValues) {
      chars += value.length();
    }
    return chars <= MAX_VARY_CHARS;
  }

  /** Removes the variant stored for this key and these Vary values, if it is still that entry. */
  public void remove(String key, CachedResponse entry) {
    entries.asMap().computeIfPresent(key, (k, variants) -> {
      List<CachedResponse> next = new ArrayList<>(variants);
      next.remove(entry);
      return next.isEmpty() ? null : List.copyOf(next);
    });
  }

  /** Removes the entries (every variant) of one key; returns how many went. */
  public int invalidate(String key) {
    List<CachedResponse> gone = entries.asMap().remove(key);
    return gone == null ? 0 : gone.size();
  }

  /** Removes every entry filled by exactly this URL ({@code scheme://host/path?query}); returns how many. */
  public int purgeUrl(String url) {
    return purge(e -> e.url().equals(url));
  }

  /** Removes every entry whose URL starts with this prefix; returns how many. */
  public int purgePrefix(String prefix) {
    return purge(e -> e.url().startsWith(prefix));
  }

  /** Removes every entry carrying this tag ({@code Cache-Tag} or {@code Surrogate-Key}); returns how many. */
  public int purgeTag(String tag) {
    return purge(e -> e.tags().contains(tag));
  }

  /** Removes everything; returns how many entries went. */
  public int purgeAll() {
    return purge(e -> true);
  }

  private int purge(Predicate<CachedResponse> doomed) {
    int[] removed = {0};
    for (String key : List.copyOf(entries.asMap().keySet())) {
      entries.asMap().computeIfPresent(key, (k, variants) -> {
        List<CachedResponse> kept = new ArrayList<>(variants.size());
        for (CachedResponse v : variants) {
          if (doomed.test(v)) {
            removed[0]++;
          } else {
            kept.add(v);
          }
        }
        return kept.isEmpty() ? null : kept.size() == variants.size() ? variants : List.copyOf(kept);
      });
    }
    return removed[0];
  }

  /** How many entries (variants) are stored. */
  public long entryCount() {
    long n = 0;
    for (List<CachedResponse> variants : entries.asMap().values()) {
      n += variants.size();
    }
    return n;
  }

  /** The bytes the entries hold, as weighed for the bound. */
  public long bytes() {
    entries.cleanUp(); // the bound's accounting catches up with the latest stores first (Caffeine defers it)
    return entries.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
  }

  /** The bound on {@link #bytes()}. */
  public long maxBytes() {
    return maxBytes;
  }

  /** How many entries were evicted to keep the bound. */
  public long evictions() {
    return evictions.sum();
  }

  /** Runs pending evictions now (tests; the cache does it by itself as it goes). */
  public void cleanUp() {
    entries.cleanUp();
  }

  /**
   * A request's values of the named headers, each field's values joined by ", ", or {@link #ABSENT}
   * for a field the request does not have: a field sent empty is a value of its own (RFC 9111 section
   * 4.1: a field absent from a request matches only a request without it).
   */
  public static List<String> varyValues(List<String> names, HttpHeaders request) {
    if (names.isEmpty()) {
      return List.of();
    }
    List<String> values = new ArrayList<>(names.size());
    for (String name : names) {
      List<String> all = request.getAll(name);
      values.add(all.isEmpty() ? ABSENT : String.join(", ", all).trim());
    }
    return values;
  }
}
