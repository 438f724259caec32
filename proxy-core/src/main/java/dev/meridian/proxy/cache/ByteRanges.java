package dev.meridian.proxy.cache;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Reads a request's {@code Range} against a stored entry (RFC 9110 section 14): one byte range is
 * answered 206 from the entry; several ranges, another unit, a malformed field or an {@code If-Range}
 * that does not match the entry get the whole entry (a server may ignore Range); a range that starts
 * past the end is unsatisfiable (416).
 */
public final class ByteRanges {
  private ByteRanges() {}

  /**
   * Whether a Range asks for the whole representation: {@code bytes=0-}, a media element's first
   * request. The edge cache asks the origin for it without the Range, so the answer can be stored,
   * and gives the client the 206 it asked for ({@link #asWholeRange}).
   */
  public static boolean asksForAll(String range) {
    if (range == null) {
      return false;
    }
    String spec = range.trim();
    return spec.regionMatches(true, 0, "bytes=", 0, 6) && spec.substring(6).trim().equals("0-");
  }

  /**
   * Whether a Range asks for one byte range that a stored entry could answer: {@code bytes=first-},
   * {@code bytes=first-last} (last not before first) or {@code bytes=-suffix}, with no list.
   */
  public static boolean isSingle(String range) {
    long[] spec = spec(range);
    return spec != null && (spec[0] >= 0 || spec[1] > 0);
  }

  /**
   * A single byte range as written, {@code {first, last}} with -1 for a part left out
   * ({@code bytes=5-}: last, {@code bytes=-5}: first, the suffix's length then in last); null for
   * another unit, a list, a malformed range, neither part, or last before first.
   */
  private static long[] spec(String range) {
    if (range == null) {
      return null;
    }
    String spec = range.trim();
    if (!spec.regionMatches(true, 0, "bytes=", 0, 6) || spec.indexOf(',') >= 0) {
      return null;
    }
    spec = spec.substring(6).trim();
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return null;
    }
    String firstText = spec.substring(0, dash).trim();
    String lastText = spec.substring(dash + 1).trim();
    long first = firstText.isEmpty() ? -1 : CacheControl.seconds(firstText);
    long last = lastText.isEmpty() ? -1 : CacheControl.seconds(lastText);
    boolean malformed = (!firstText.isEmpty() && first < 0) || (!lastText.isEmpty() && last < 0);
    if (malformed || (first < 0 && last < 0) || (first >= 0 && last >= 0 && last < first)) {
      return null;
    }
    return new long[] {first, last};
  }

  /**
   * Makes an origin's whole 200 the answer to {@code bytes=0-}: a 206 whose Content-Range covers
   * every byte, the body unchanged. Without a known length above 0 it stays a 200 (a server may
   * ignore Range).
   */
  public static void asWholeRange(HttpResponse response) {
    long length = HttpUtil.getContentLength(response, -1L);
    if (response.status().code() == 200 && length > 0) {
      response.setStatus(HttpResponseStatus.PARTIAL_CONTENT);
      response.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes 0-" + (length - 1) + "/" + length);
    }
  }

  /**
   * The one range to answer, as {@code {first, last}} (inclusive); {@code {-1, -1}} when it is
   * unsatisfiable; null to answer the whole entry.
   */
  public static long[] single(HttpHeaders request, CachedResponse entry) {
    String range = request.get(HttpHeaderNames.RANGE);
    if (range == null || !ifRangeMatches(request.get(HttpHeaderNames.IF_RANGE), entry)) {
      return null;
    }
    long[] spec = spec(range);
    if (spec == null) {
      return null;
    }
    long length = entry.length();
    long first = spec[0];
    long last = spec[1];
    if (first < 0) {
      // A suffix: the last N bytes.
      if (last == 0 || length == 0) {
        return new long[] {-1, -1};
      }
      return new long[] {Math.max(0, length - last), length - 1};
    }
    if (first >= length) {
      return new long[] {-1, -1};
    }
    return new long[] {first, last >= 0 ? Math.min(last, length - 1) : length - 1};
  }

  /** Whether an If-Range (absent, a strong ETag or an HTTP date) lets the range be answered. */
  private static boolean ifRangeMatches(String ifRange, CachedResponse entry) {
    if (ifRange == null) {
      return true;
    }
    String value = ifRange.trim();
    if (value.startsWith("\"")) {
      return value.equals(entry.etag());
    }
    if (value.startsWith("W/")) {
      return false;
    }
    long since = HttpDates.parse(value);
    return since != HttpDates.INVALID && since == HttpDates.parse(entry.lastModified());
  }
}
