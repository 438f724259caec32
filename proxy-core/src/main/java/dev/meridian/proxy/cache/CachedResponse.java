package dev.meridian.proxy.cache;

import dev.meridian.proxy.routing.CachePolicy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One stored answer: its status, the origin's end-to-end headers, its body, and when it was stored on
 * the cache's monotonic clock. Immutable.
 *
 * <p>The body is a direct {@link ByteBuffer} of the JDK's, freed by the garbage collector once no entry
 * or write holds it: each hit writes a wrapped duplicate of it, which a native transport sends without
 * copying (a heap array would be copied into a direct buffer on every write), and an evicted entry
 * needs no release, so a hit can never race an eviction's release.
 *
 * @param url             {@code scheme://host/path?query} of the request that filled it (purge by URL or prefix)
 * @param status          status code
 * @param reason          reason phrase
 * @param headers         the origin's headers without hop-by-hop fields, Content-Length and Age, in order
 * @param body            the body: a direct buffer, position 0, limit its length; never written to
 * @param storedAtNanos   when it was stored (the cache's clock)
 * @param initialAgeSeconds how old it was on arrival
 * @param lifetimeSeconds how long it is fresh
 * @param originStaleIfErrorSeconds the origin's {@code stale-if-error}, or -1: how long past freshness it
 *                        may answer when the origin fails, unless the route sets its own
 * @param originStaleWhileRevalidateSeconds the origin's {@code stale-while-revalidate}, or -1: how long past
 *                        freshness it may answer while a refresh asks the origin, unless the route sets its own
 * @param mayServeStale   whether it may answer once stale by the route's windows (the origin's Cache-Control
 *                        may forbid it); the origin's own windows are -1 when it forbids them
 * @param varyNames       the request headers (lower case) it varies on
 * @param varyValues      those headers' values in the request that filled it ({@link EdgeCache#ABSENT} when absent)
 * @param etag            its ETag, or null
 * @param lastModified    its Last-Modified, or null
 * @param tags            its purge tags, from {@code Cache-Tag} and {@code Surrogate-Key}
 */
public record CachedResponse(String url, int status, String reason, List<Map.Entry<String, String>> headers,
    ByteBuffer body, long storedAtNanos, long initialAgeSeconds, long lifetimeSeconds,
    long originStaleIfErrorSeconds, long originStaleWhileRevalidateSeconds, boolean mayServeStale,
    List<String> varyNames, List<String> varyValues, String etag, String lastModified, Set<String> tags) {

  /**
   * Bytes the entry holds, for the cache's bound: the body, the headers, the request values it was
   * stored for (a Vary on a field a client fills with 30 KB made each entry hold 30 KB that the bound
   * did not count, until the heap ran out), its tags and validators, and a fixed overhead.
   */
  public int weight() {
    long w = 256L + body.capacity() + text(url);
    for (Map.Entry<String, String> h : headers) {
      w += 48 + text(h.getKey()) + text(h.getValue());
    }
    for (String name : varyNames) {
      w += 48 + text(name);
    }
    for (String value : varyValues) {
      w += 48 + text(value);
    }
    for (String tag : tags) {
      w += 48 + text(tag);
    }
    w += text(etag) + text(lastModified);
    return (int) Math.min(Integer.MAX_VALUE, w);
  }

  /** What a string held by the entry weighs: two bytes a character, as the bound has always counted. */
  private static long text(String s) {
    return s == null ? 0 : 2L * s.length();
  }

  /** The body's length in bytes. */
  public int length() {
    return body.limit();
  }

  /** The whole body, for one write: a wrapper of the stored buffer (no copy, nothing to release). */
  public ByteBuf content() {
    return body.limit() == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body.duplicate());
  }

  /** Bytes {@code [from, from + length)} of the body, for one write (a Range), without copying. */
  public ByteBuf content(int from, int length) {
    return Unpooled.wrappedBuffer(body.duplicate().position(from).limit(from + length).slice());
  }

  /** A direct copy of {@code bytes[0, length)}, for {@link #body}. */
  public static ByteBuffer directCopy(byte[] bytes, int length) {
    ByteBuffer direct = ByteBuffer.allocateDirect(length);
    direct.put(bytes, 0, length).flip();
    return direct;
  }

  /** Its age in whole seconds at {@code nowNanos}. */
  public long ageSeconds(long nowNanos) {
    return initialAgeSeconds + Math.max(0, nowNanos - storedAtNanos) / 1_000_000_000L;
  }

  /** Whether it is still fresh at {@code nowNanos}. */
  public boolean isFresh(long nowNanos) {
    return initialAgeSeconds * 1_000_000_000L + (nowNanos - storedAtNanos) < lifetimeSeconds * 1_000_000_000L;
  }

  /**
   * Whether, stale, it may still answer when the origin fails, at {@code nowNanos}: within the route's
   * {@code stale-if-error} as it is now (a reload that widens it covers entries already stored), or,
   * when the route sets none, the origin's (see {@link #window}).
   */
  public boolean mayServeOnError(CachePolicy policy, long nowNanos) {
    return isWithin(window(policy.staleIfError(), originStaleIfErrorSeconds, policy), nowNanos);
  }

  /**
   * Whether it may answer while a background refresh asks the origin (stale-while-revalidate): stale
   * by no more than the route's {@code stale-while-revalidate}, or, when the route sets none, the
   * origin's (see {@link #window}), at {@code nowNanos}.
   */
  public boolean mayServeWhileRevalidating(CachePolicy policy, long nowNanos) {
    long grace = window(policy.staleWhileRevalidate(), originStaleWhileRevalidateSeconds, policy);
    return grace > 0 && isWithin(grace, nowNanos);
  }

  /**
   * How long past freshness it may answer, by one of the two RFC 5861 windows: the route's when the
   * route sets one and the answer may be served stale (or its origin granted that window itself, which
   * an s-maxage alone does not forbid), else the origin's when the route honours the origin, else 0.
   */
  private long window(Duration routes, long origins, CachePolicy policy) {
    long configured = routes.toSeconds();
    boolean originGranted = policy.honorOrigin() && origins >= 0;
    if (configured > 0 && (mayServeStale || originGranted)) {
      return configured;
    }
    return originGranted ? origins : 0;
  }

  /** Whether it is no staler than {@code graceSeconds} past its freshness at {@code nowNanos}. */
  private boolean isWithin(long graceSeconds, long nowNanos) {
    long ageNanos = initialAgeSeconds * 1_000_000_000L + (nowNanos - storedAtNanos);
    return ageNanos < (lifetimeSeconds + graceSeconds) * 1_000_000_000L;
  }

  /** Whether a request's values of {@link #varyNames} match the ones this entry was stored for. */
  public boolean matches(List<String> requestVaryValues) {
    return varyValues.equals(requestVaryValues);
  }
}
