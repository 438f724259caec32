package dev.meridian.proxy.server;

import dev.meridian.proxy.http.RequestCookies;
import dev.meridian.proxy.http1.FieldNames;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads what in a request keeps the edge cache from answering or sharing it ({@link EdgeCachePhase}'s
 * questions of the request's fields): a user's credentials, a header origins read as another URL,
 * host, scheme or method, a field spelled with {@code _} for {@code -}, validators of the client's own.
 */
final class CacheableRequests {
  /** Fields that make a request personal: its answer is not shared unless the origin says it may be. */
  private static final FieldNames CREDENTIALS = FieldNames.eitherSeparator(List.of(
      AsciiString.cached("authorization"), AsciiString.cached("cookie"), AsciiString.cached("proxy-authorization")));
  /**
   * Request headers that origins commonly read as another URL, host, scheme or method, and that are
   * not in the key: a request carrying one bypasses the cache, so an answer they shaped is never stored
   * for others (cache poisoning). Also when spelled with {@code _} for {@code -} ({@code X_Original_URL}),
   * which CGI, WSGI and Rack backends read as the same header. Meridian drops the forwarding fields
   * a client sends ({@code ForwardingHeaders}) unless it is a trusted proxy, whose are kept: these
   * then bypass here, while its X-Forwarded-Proto and X-Forwarded-Host go into the key.
   */
  private static final FieldNames OVERRIDE_HEADERS = FieldNames.eitherSeparator(List.of(
      AsciiString.cached("x-original-url"), AsciiString.cached("x-rewrite-url"),
      AsciiString.cached("x-forwarded-server"), AsciiString.cached("x-forwarded-scheme"),
      AsciiString.cached("x-forwarded-port"), AsciiString.cached("x-forwarded-prefix"),
      AsciiString.cached("x-forwarded-ssl"), AsciiString.cached("front-end-https"),
      AsciiString.cached("x-url-scheme"), AsciiString.cached("x-host"), AsciiString.cached("forwarded"),
      AsciiString.cached("x-http-method-override"), AsciiString.cached("x-http-method"),
      AsciiString.cached("x-method-override")));

  private CacheableRequests() {}

  /**
   * Whether the request carries a user's credentials: Authorization, Proxy-Authorization, or a Cookie
   * other than Meridian's own routing cookies (a sticky pin says which backend, not who the user is,
   * and must not switch the cache off for every pinned client).
   *
   * @param routingCookies the names of the cookies Meridian itself sets
   */
  static boolean carriesCredentials(HttpHeaders headers, Set<String> routingCookies) {
    if (!CREDENTIALS.anyIn(headers)) {
      return false;
    }
    for (Map.Entry<String, String> field : headers) {
      String name = field.getKey();
      if (CREDENTIALS.matches(name)
          && (!name.equalsIgnoreCase("cookie") || !RequestCookies.onlyNamed(field.getValue(), routingCookies))) {
        return true;
      }
    }
    return false;
  }

  /** Whether the request carries a header origins read as another URL, host, scheme or method. */
  static boolean carriesOverride(HttpHeaders headers) {
    return OVERRIDE_HEADERS.anyIn(headers);
  }

  /**
   * Whether the request carries one of these fields spelled with {@code _} for {@code -}
   * ({@code Accept_Language}): the key or the variant holds the dash spelling's value, while CGI,
   * WSGI and Rack servers merge both spellings into one variable, so such a request could shape an
   * answer stored for requests without it.
   */
  static boolean spellsWithUnderscore(HttpHeaders headers, List<String> names) {
    if (names.isEmpty()) {
      return false;
    }
    List<AsciiString> lower = new ArrayList<>(names.size());
    for (String name : names) {
      lower.add(AsciiString.of(name.toLowerCase(Locale.ROOT)));
    }
    return FieldNames.underscoreSpellings(lower).anyIn(headers);
  }

  /** Whether the client sent validators or preconditions of its own. */
  static boolean isConditional(HttpHeaders headers) {
    return headers.contains(HttpHeaderNames.IF_NONE_MATCH) || headers.contains(HttpHeaderNames.IF_MODIFIED_SINCE)
        || headers.contains(HttpHeaderNames.IF_MATCH) || headers.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE);
  }
}
