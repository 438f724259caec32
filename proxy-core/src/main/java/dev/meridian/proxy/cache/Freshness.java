package dev.meridian.proxy.cache;

import dev.meridian.proxy.routing.CachePolicy;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * Decides whether an origin's response may be stored for a route, and for how long it is fresh
 * (RFC 9111 sections 3, 4.2 and 5.2.2, as a shared cache): {@link #judge}.
 *
 * <p>Never stored: a status the route does not list (so never a 206), {@code no-store},
 * {@code private}, {@code no-cache} without a validator (with an ETag or Last-Modified it is stored
 * never fresh, so every use revalidates it with the origin), a
 * {@code Set-Cookie}, {@code Vary: *}, the answer to an authenticated request unless {@code public} or
 * {@code s-maxage}, and an answer with no freshness left. Freshness, when the route honours the
 * origin: {@code s-maxage}, else {@code max-age}, else {@code Expires} minus {@code Date}, else the
 * route's {@code ttl}; otherwise always the route's {@code ttl}. A targeted field the route names
 * ({@code CDN-Cache-Control}, RFC 9213) with a valid value replaces {@code Cache-Control} and
 * {@code Expires} in all of this. A malformed {@code max-age} or an
 * {@code Expires} that is no valid date makes it stale. The age it arrives with is the larger of its
 * {@code Age} and how old its {@code Date} says it is. An answer with {@code no-cache},
 * {@code must-revalidate}, {@code proxy-revalidate} or {@code s-maxage} is never served stale
 * (stale-if-error, stale-while-revalidate); when the route honours the origin, the origin's own
 * {@code stale-if-error} and {@code stale-while-revalidate} (RFC 5861) are kept with the entry, for
 * routes that set no such window of their own.
 */
public final class Freshness {
  /** The obsolete Set-Cookie2 (RFC 2965), which some origins still send: a session all the same. */
  private static final io.netty.util.AsciiString SET_COOKIE2 = io.netty.util.AsciiString.cached("set-cookie2");

  /**
   * The verdict on one response.
   *
   * @param notStored        why it may not be stored (a metric label), or null when it may
   * @param lifetimeSeconds  how long it is fresh from its origin's point of view
   * @param initialAgeSeconds how old it already is on arrival
   * @param mayServeStale    whether, once stale, it may still answer (see {@link CacheControl#mayServeStale})
   * @param originStaleIfErrorSeconds the origin's {@code stale-if-error}, or -1 (also when the route does
   *                         not honour the origin)
   * @param originStaleWhileRevalidateSeconds the origin's {@code stale-while-revalidate}, or -1 (likewise)
   */
  public record Verdict(String notStored, long lifetimeSeconds, long initialAgeSeconds, boolean mayServeStale,
      long originStaleIfErrorSeconds, long originStaleWhileRevalidateSeconds) {
    static Verdict refuse(String why) {
      return new Verdict(why, 0, 0, false, -1, -1);
    }

    /** Whether the response may be stored. */
    public boolean storable() {
      return notStored == null;
    }
  }

  private Freshness() {}

  /**
   * Judges a response.
   *
   * @param status          its status code
   * @param headers         its headers, as the origin sent them
   * @param authenticated   whether the request carried {@code Authorization} or {@code Cookie}
   * @param nowEpochMillis  the wall-clock time it arrived (for {@code Date} and {@code Expires})
   */
  public static Verdict judge(CachePolicy policy, int status, HttpHeaders headers, boolean authenticated,
      long nowEpochMillis) {
    if (!policy.cacheableStatus().contains(status) || status == 206) {
      return Verdict.refuse("status");
    }
    CacheControl targeted = policy.honorOrigin() ? CacheControl.targeted(headers, policy.targetedFields()) : null;
    CacheControl cc = targeted != null ? targeted : CacheControl.of(headers);
    if (cc.noStore()) {
      return Verdict.refuse("no-store");
    }
    if (cc.isPrivate()) {
      return Verdict.refuse("private");
    }
    boolean validators = headers.contains(HttpHeaderNames.ETAG) || headers.contains(HttpHeaderNames.LAST_MODIFIED);
    if (cc.noCache() && !validators) {
      return Verdict.refuse("no-cache");
    }
    if (headers.contains(HttpHeaderNames.SET_COOKIE) || headers.contains(SET_COOKIE2)) {
      return Verdict.refuse("set-cookie");
    }
    for (String vary : headers.getAll(HttpHeaderNames.VARY)) {
      if (vary.contains("*")) {
        return Verdict.refuse("vary-star");
      }
    }
    if (authenticated && !cc.isPublic() && cc.sMaxAgeSeconds() < 0) {
      return Verdict.refuse("authenticated");
    }
    long lifetime = policy.ttl().toSeconds();
    long initialAge = 0;
    if (policy.honorOrigin()) {
      long date = HttpDates.parse(headers.get(HttpHeaderNames.DATE));
      long dateMillis = date == HttpDates.INVALID ? nowEpochMillis : date;
      if (cc.malformed()) {
        lifetime = 0; // RFC 9111 section 4.2.1: invalid freshness information makes the response stale
      } else if (cc.sMaxAgeSeconds() >= 0) {
        lifetime = cc.sMaxAgeSeconds();
      } else if (cc.maxAgeSeconds() >= 0) {
        lifetime = cc.maxAgeSeconds();
      } else if (targeted == null && headers.contains(HttpHeaderNames.EXPIRES)) {
        // An Expires that is no valid HTTP date (another format, a zone other than GMT) is in the past.
        long expires = HttpDates.parse(headers.get(HttpHeaderNames.EXPIRES));
        lifetime = expires == HttpDates.INVALID ? 0 : Math.max(0, (expires - dateMillis) / 1000);
      }
      long apparentAge = Math.max(0, (nowEpochMillis - dateMillis) / 1000);
      initialAge = Math.max(apparentAge, age(headers.get(HttpHeaderNames.AGE)));
    }
    if (cc.noCache()) {
      // Stored to be revalidated before every use: never fresh, never served stale.
      return new Verdict(null, 0, initialAge, false, -1, -1);
    }
    // The origin's own stale windows (RFC 5861), unless it forbids stale use outright: an s-maxage
    // alone (proxy-revalidate's meaning) yields to a window the same answer grants explicitly.
    boolean originGrants = policy.honorOrigin() && !cc.mustRevalidate() && !cc.malformed();
    long staleIfError = originGrants ? cc.staleIfErrorSeconds() : -1;
    long staleWhileRevalidate = originGrants ? cc.staleWhileRevalidateSeconds() : -1;
    if (lifetime - initialAge <= 0) {
      // Stale on arrival: kept only for a window its origin granted (max-age=0, stale-while-revalidate=60).
      long window = Math.max(staleIfError, staleWhileRevalidate);
      return new Verdict(lifetime + window - initialAge > 0 ? null : "no-freshness", lifetime, initialAge,
          false, staleIfError, staleWhileRevalidate);
    }
    return new Verdict(null, lifetime, initialAge, cc.mayServeStale(), staleIfError, staleWhileRevalidate);
  }

  /**
   * The seconds an {@code Age} field says, 0 when absent or malformed: of a list ({@code 7200, 0}, or
   * two field lines) the first member counts (RFC 9111 section 5.1).
   */
  static long age(String value) {
    if (value == null) {
      return 0;
    }
    int comma = value.indexOf(',');
    return Math.max(0, CacheControl.seconds((comma < 0 ? value : value.substring(0, comma)).trim()));
  }
}
