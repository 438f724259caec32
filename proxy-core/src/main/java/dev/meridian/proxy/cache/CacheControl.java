package dev.meridian.proxy.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Locale;

/**
 * The directives of a response's {@code Cache-Control} fields (RFC 9111 section 5.2.2) that a shared
 * cache acts on. Unknown directives are ignored; a malformed {@code max-age} or {@code s-maxage} counts
 * as absent, and a duplicated one as its smallest value.
 *
 * @param noStore          {@code no-store}: never stored
 * @param isPrivate        {@code private}: for one user, never stored by a shared cache
 * @param noCache          {@code no-cache}: must be revalidated before every use
 * @param isPublic         {@code public}: may be stored even for an authenticated request
 * @param maxAgeSeconds    {@code max-age}, or -1
 * @param sMaxAgeSeconds   {@code s-maxage} (shared caches only), or -1
 */
public record CacheControl(boolean noStore, boolean isPrivate, boolean noCache, boolean isPublic,
    long maxAgeSeconds, long sMaxAgeSeconds) {

  /** Reads every {@code Cache-Control} field of a response. */
  public static CacheControl of(HttpHeaders headers) {
    boolean noStore = false;
    boolean isPrivate = false;
    boolean noCache = false;
    boolean isPublic = false;
    long maxAge = -1;
    long sMaxAge = -1;
    for (String field : headers.getAll(HttpHeaderNames.CACHE_CONTROL)) {
      for (String part : field.split(",")) {
        String directive = part.trim().toLowerCase(Locale.ROOT);
        int eq = directive.indexOf('=');
        String name = eq < 0 ? directive : directive.substring(0, eq).trim();
        String value = eq < 0 ? null : unquote(directive.substring(eq + 1).trim());
        switch (name) {
          case "no-store" -> noStore = true;
          case "private" -> isPrivate = true;
          case "no-cache" -> noCache = true;
          case "public" -> isPublic = true;
          case "max-age" -> maxAge = smallest(maxAge, seconds(value));
          case "s-maxage" -> sMaxAge = smallest(sMaxAge, seconds(value));
          default -> { }
        }
      }
    }
    return new CacheControl(noStore, isPrivate, noCache, isPublic, maxAge, sMaxAge);
  }

  private static String unquote(String value) {
    return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
        ? value.substring(1, value.length() - 1) : value;
  }

  private static long smallest(long current, long next) {
    if (next < 0) {
      return current;
    }
    return current < 0 ? next : Math.min(current, next);
  }

  /** A delta-seconds value (RFC 9111 section 1.2.2), or -1 when it is not one; huge values are capped. */
  static long seconds(String value) {
    if (value == null || value.isEmpty()) {
      return -1;
    }
    long n = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = Math.min(Integer.MAX_VALUE, n * 10 + (c - '0'));
    }
    return n;
  }
}
