package dev.meridian.proxy.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The directives of a response's {@code Cache-Control} fields (RFC 9111 section 5.2.2) that a shared
 * cache acts on. Unknown directives are ignored; a duplicated {@code max-age} or {@code s-maxage} counts
 * as its smallest value, and a malformed one (not delta-seconds: {@code max-age=-1},
 * {@code max-age='60'}) makes the response stale (RFC 9111 section 4.2.1), as if it said 0.
 *
 * @param noStore          {@code no-store}: never stored
 * @param isPrivate        {@code private}: for one user, never stored by a shared cache
 * @param noCache          {@code no-cache}: must be revalidated before every use
 * @param isPublic         {@code public}: may be stored even for an authenticated request
 * @param maxAgeSeconds    {@code max-age}, or -1
 * @param sMaxAgeSeconds   {@code s-maxage} (shared caches only), or -1
 * @param mustRevalidate   {@code must-revalidate} or {@code proxy-revalidate}: never served stale
 * @param malformed        a {@code max-age} or {@code s-maxage} that is no delta-seconds was present
 *                         (such a value is not kept: the response is stale, and shared by nothing of it)
 * @param staleWhileRevalidateSeconds {@code stale-while-revalidate} (RFC 5861 section 3), or -1 (also
 *                         when malformed: an extension the cache cannot read is ignored)
 * @param staleIfErrorSeconds {@code stale-if-error} (RFC 5861 section 4), or -1 (likewise)
 */
public record CacheControl(boolean noStore, boolean isPrivate, boolean noCache, boolean isPublic,
    long maxAgeSeconds, long sMaxAgeSeconds, boolean mustRevalidate, boolean malformed,
    long staleWhileRevalidateSeconds, long staleIfErrorSeconds) {

  /** Reads every {@code Cache-Control} field of a response. */
  public static CacheControl of(HttpHeaders headers) {
    boolean noStore = false;
    boolean isPrivate = false;
    boolean noCache = false;
    boolean isPublic = false;
    long maxAge = -1;
    long sMaxAge = -1;
    boolean mustRevalidate = false;
    boolean malformed = false;
    long staleWhileRevalidate = -1;
    long staleIfError = -1;
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
          case "max-age", "s-maxage" -> {
            long seconds = seconds(value);
            malformed |= seconds < 0;
            if (name.equals("max-age")) {
              maxAge = smallest(maxAge, seconds);
            } else {
              sMaxAge = smallest(sMaxAge, seconds);
            }
          }
          case "must-revalidate", "proxy-revalidate" -> mustRevalidate = true;
          case "stale-while-revalidate" -> staleWhileRevalidate = smallest(staleWhileRevalidate, seconds(value));
          case "stale-if-error" -> staleIfError = smallest(staleIfError, seconds(value));
          default -> { }
        }
      }
    }
    return new CacheControl(noStore, isPrivate, noCache, isPublic, maxAge, sMaxAge, mustRevalidate, malformed,
        staleWhileRevalidate, staleIfError);
  }

  /**
   * The directives of the first targeted field (RFC 9213: {@code CDN-Cache-Control}, or a name of the
   * operator's) that the response carries with a valid, non-empty value, or null when none does; a
   * cache that finds one ignores {@code Cache-Control} and {@code Expires}. The field is a Structured
   * Field Dictionary: one that is not (a space around {@code =}, an upper-case key, a trailing comma),
   * or whose {@code max-age}, {@code s-maxage}, {@code stale-while-revalidate} or
   * {@code stale-if-error} is no integer of 0 or more, is ignored whole. Several lines of one name
   * form one value.
   *
   * @param fieldNames the targeted field names, in order of precedence
   */
  public static CacheControl targeted(HttpHeaders headers, List<String> fieldNames) {
    for (String name : fieldNames) {
      List<String> lines = headers.getAll(name);
      if (lines.isEmpty()) {
        continue;
      }
      Map<String, Object> members = StructuredDictionary.parse(String.join(", ", lines));
      CacheControl directives = members == null || members.isEmpty() ? null : ofMembers(members);
      if (directives != null) {
        return directives;
      }
    }
    return null;
  }

  /** The directives of a targeted field's members, or null when one of them has the wrong type. */
  private static CacheControl ofMembers(Map<String, Object> members) {
    long[] seconds = new long[4];
    String[] names = {"max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"};
    for (int i = 0; i < names.length; i++) {
      Object value = members.get(names[i]);
      if (value == null) {
        seconds[i] = -1;
      } else if (value instanceof Long n && n >= 0) {
        seconds[i] = Math.min(Integer.MAX_VALUE, n);
      } else {
        return null;
      }
    }
    // no-cache and private may name fields (a string); either way the answer is treated as unqualified.
    return new CacheControl(present(members, "no-store"), members.containsKey("private"),
        members.containsKey("no-cache"), present(members, "public"), seconds[0], seconds[1],
        present(members, "must-revalidate") || present(members, "proxy-revalidate"), false, seconds[2], seconds[3]);
  }

  private static boolean present(Map<String, Object> members, String directive) {
    return Boolean.TRUE.equals(members.get(directive)) || members.get(directive) == StructuredDictionary.OTHER;
  }

  /**
   * Whether the response may be served stale by a shared cache (RFC 9111 section 4.2.4): not when it
   * must be revalidated before every use ({@code no-cache}), nor once stale ({@code must-revalidate},
   * {@code proxy-revalidate}, and {@code s-maxage}, which carries proxy-revalidate's meaning).
   */
  public boolean mayServeStale() {
    return !noCache && !mustRevalidate && sMaxAgeSeconds < 0 && !malformed;
  }

  /**
   * Whether a request's {@code Cache-Control} fields carry a directive without an argument
   * ({@code no-store}, {@code only-if-cached}), in any case.
   */
  public static boolean requestHas(HttpHeaders headers, String directive) {
    for (String field : headers.getAll(HttpHeaderNames.CACHE_CONTROL)) {
      for (String part : field.split(",")) {
        if (part.trim().equalsIgnoreCase(directive)) {
          return true;
        }
      }
    }
    return false;
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
