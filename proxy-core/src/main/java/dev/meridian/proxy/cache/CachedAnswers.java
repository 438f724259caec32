package dev.meridian.proxy.cache;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Map;

/**
 * Makes the answer an entry gives a request: the whole entry, its headers only for HEAD, a 304 when
 * a fresh 2xx entry matches the client's validators (RFC 9110 section 13.1), or one byte range (206, or
 * 416 past the end; see {@link ByteRanges}); always with {@code Age} and {@code X-Cache}. The body is
 * a wrapper of the stored buffer, never a copy.
 */
public final class CachedAnswers {
  /** The header that says what the cache did. */
  public static final AsciiString X_CACHE = AsciiString.cached("x-cache");
  /** Headers a 304 carries from the entry (RFC 9110 section 15.4.5). */
  private static final List<AsciiString> NOT_MODIFIED_HEADERS = List.of(HttpHeaderNames.CACHE_CONTROL,
      HttpHeaderNames.CONTENT_LOCATION, HttpHeaderNames.DATE, HttpHeaderNames.ETAG, HttpHeaderNames.EXPIRES,
      HttpHeaderNames.VARY, HttpHeaderNames.LAST_MODIFIED);

  private CachedAnswers() {}

  /**
   * The answer, before the proxy's own response rewriting (Via, request id, keep-alive).
   *
   * @param request the request's headers (validators, Range)
   * @param head    whether the request is a HEAD
   * @param result  the X-Cache value; only a HIT checks the client's validators
   * @param now     the cache's clock, for Age
   */
  public static FullHttpResponse of(CachedResponse entry, HttpHeaders request, boolean head, String result, long now) {
    // Preconditions apply only to what would be a 2xx answer (RFC 9110 section 13.2.1): a stored 404 or
    // 301 is answered as it is, or a browser would keep showing the 200 it holds.
    boolean notModified = result.equals("HIT") && entry.status() / 100 == 2 && notModified(request, entry);
    FullHttpResponse response;
    if (notModified) {
      response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED,
          Unpooled.EMPTY_BUFFER);
      for (Map.Entry<String, String> h : entry.headers()) {
        if (NOT_MODIFIED_HEADERS.stream().anyMatch(n -> n.contentEqualsIgnoreCase(h.getKey()))) {
          response.headers().add(h.getKey(), h.getValue());
        }
      }
    } else {
      long[] range = entry.status() == 200 && !head ? ByteRanges.single(request, entry) : null;
      if (range != null && range[0] < 0) {
        response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
            Unpooled.EMPTY_BUFFER);
        response.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + entry.length());
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
      } else if (range != null) {
        int from = (int) range[0];
        int length = (int) (range[1] - range[0] + 1);
        response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.PARTIAL_CONTENT,
            entry.content(from, length));
        for (Map.Entry<String, String> h : entry.headers()) {
          response.headers().add(h.getKey(), h.getValue());
        }
        response.headers().set(HttpHeaderNames.CONTENT_RANGE,
            "bytes " + range[0] + "-" + range[1] + "/" + entry.length());
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
      } else {
        response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            new HttpResponseStatus(entry.status(), entry.reason()),
            head ? Unpooled.EMPTY_BUFFER : entry.content());
        for (Map.Entry<String, String> h : entry.headers()) {
          response.headers().add(h.getKey(), h.getValue());
        }
        if (entry.status() != 204 && entry.status() != 304) {
          response.headers().set(HttpHeaderNames.CONTENT_LENGTH, entry.length());
        }
      }
    }
    response.headers().set(HttpHeaderNames.AGE, entry.ageSeconds(now));
    response.headers().set(X_CACHE, result);
    return response;
  }


  /** The 504 an only-if-cached request gets when no fresh entry matches (RFC 9111 section 5.2.1.7). */
  public static FullHttpResponse gatewayTimeout(String message) {
    byte[] body = (message + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.GATEWAY_TIMEOUT,
        Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
        .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(X_CACHE, "MISS");
    return response;
  }

  /** Whether a GET's If-None-Match (or, without one, If-Modified-Since) matches the entry (RFC 9110 13.1). */
  public static boolean notModified(HttpHeaders request, CachedResponse entry) {
    List<String> noneMatch = request.getAll(HttpHeaderNames.IF_NONE_MATCH);
    if (!noneMatch.isEmpty()) {
      if (entry.etag() == null) {
        return false;
      }
      String etag = weak(entry.etag());
      for (String field : noneMatch) {
        for (String tag : field.split(",")) {
          String t = tag.trim();
          if (t.equals("*") || weak(t).equals(etag)) {
            return true;
          }
        }
      }
      return false;
    }
    String since = request.get(HttpHeaderNames.IF_MODIFIED_SINCE);
    if (since == null || entry.lastModified() == null) {
      return false;
    }
    long sinceDate = HttpDates.parse(since);
    long modified = HttpDates.parse(entry.lastModified());
    return sinceDate != HttpDates.INVALID && modified != HttpDates.INVALID && modified <= sinceDate;
  }

  private static String weak(String etag) {
    return etag.startsWith("W/") ? etag.substring(2) : etag;
  }

}
