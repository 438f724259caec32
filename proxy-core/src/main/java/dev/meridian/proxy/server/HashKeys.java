package dev.meridian.proxy.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;

/** Extracts a request's consistent-hash key and hashes it to 64 bits. */
final class HashKeys {
  private HashKeys() {}

  /**
   * The key's text for a request, or null when the request has none.
   *
   * @param spec {@code header:NAME}, {@code cookie:NAME} or {@code client-address}
   */
  static String extract(String spec, HttpHeaders headers, String clientIp) {
    if (spec.startsWith("header:")) {
      return headers.get(spec.substring(7));
    }
    if (spec.startsWith("cookie:")) {
      return cookie(headers, spec.substring(7));
    }
    return clientIp;
  }

  /** The value of a request cookie, or null. */
  static String cookie(HttpHeaders headers, String name) {
    for (String header : headers.getAll(HttpHeaderNames.COOKIE)) {
      for (Cookie c : ServerCookieDecoder.LAX.decode(header)) {
        if (c.name().equals(name)) {
          return c.value();
        }
      }
    }
    return null;
  }

  /** A well-mixed 64-bit hash of the text (FNV-1a, then the SplitMix64 finalizer). */
  static long hash(String text) {
    return hash(text, 0, text.length());
  }

  /** {@link #hash(String)} of {@code text[start, end)}, without making a string of it. */
  static long hash(CharSequence text, int start, int end) {
    long h = 0xcbf29ce484222325L;
    for (int i = start; i < end; i++) {
      h ^= text.charAt(i);
      h *= 0x100000001b3L;
    }
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }
}
