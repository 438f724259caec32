package dev.meridian.proxy.cache;

import dev.meridian.proxy.http.HopByHopHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads what the cache keeps of an origin's response headers: the end-to-end headers it stores, the
 * request headers it {@code Vary}s on, and its purge tags ({@code Cache-Tag}, {@code Surrogate-Key}),
 * which are taken out so clients never see them.
 */
public final class OriginHeaders {
  private static final AsciiString CACHE_TAG = AsciiString.cached("cache-tag");
  private static final AsciiString SURROGATE_KEY = AsciiString.cached("surrogate-key");

  private OriginHeaders() {}

  /** Takes the purge tags out of the headers: Cache-Tag (commas) and Surrogate-Key (spaces). */
  public static Set<String> takeTags(HttpHeaders headers) {
    if (!headers.contains(CACHE_TAG) && !headers.contains(SURROGATE_KEY)) {
      return Set.of();
    }
    Set<String> tags = new LinkedHashSet<>();
    for (String field : headers.getAll(CACHE_TAG)) {
      for (String tag : field.split(",")) {
        if (!tag.isBlank()) {
          tags.add(tag.trim());
        }
      }
    }
    for (String field : headers.getAll(SURROGATE_KEY)) {
      for (String tag : field.trim().split("\\s+")) {
        if (!tag.isBlank()) {
          tags.add(tag);
        }
      }
    }
    headers.remove(CACHE_TAG);
    headers.remove(SURROGATE_KEY);
    return Set.copyOf(tags);
  }

  /** The request headers (lower case, each once) the answer's Vary names. */
  public static List<String> varyNames(HttpHeaders headers) {
    List<String> names = new ArrayList<>();
    for (String field : headers.getAll(HttpHeaderNames.VARY)) {
      for (String name : field.split(",")) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (!n.isEmpty() && !names.contains(n)) {
          names.add(n);
        }
      }
    }
    return List.copyOf(names);
  }

  /** The origin's end-to-end headers as stored: without hop-by-hop fields, framing and Age. */
  public static List<Map.Entry<String, String>> storedHeaders(HttpHeaders headers) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (Map.Entry<String, String> h : HopByHopHeaders.endToEnd(headers)) {
      String name = h.getKey();
      if (!HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name) && !HttpHeaderNames.AGE.contentEqualsIgnoreCase(name)
          && !CachedAnswers.X_CACHE.contentEqualsIgnoreCase(name)) {
        out.add(h);
      }
    }
    return List.copyOf(out);
  }
}
