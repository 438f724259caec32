package dev.meridian.proxy.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;

/**
 * The lower-case form of a response field's name for an HTTP/2 header block, with the usual names
 * answered by shared constants: found by length, then compared ignoring case, so that a name such as
 * {@code Content-Type} is neither lower-cased into a new array nor hashed again for each response
 * (both showed under S4). Any other name is lower-cased as it comes.
 */
final class LowerCaseFieldNames {
  /** The constants by their length; each is lower case and caches its hash once asked. */
  private static final AsciiString[][] BY_LENGTH = byLength(
      HttpHeaderNames.AGE, HttpHeaderNames.DATE, HttpHeaderNames.ETAG, HttpHeaderNames.VARY, HttpHeaderNames.VIA,
      HttpHeaderNames.SERVER, HttpHeaderNames.EXPIRES, HttpHeaderNames.LOCATION, HttpHeaderNames.SET_COOKIE,
      HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.CONTENT_ENCODING,
      HttpHeaderNames.CONTENT_LANGUAGE, HttpHeaderNames.CONTENT_RANGE, HttpHeaderNames.CACHE_CONTROL,
      HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.ACCEPT_RANGES, AsciiString.cached("strict-transport-security"),
      HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, HttpHeaderNames.X_FRAME_OPTIONS,
      HttpHeaderNames.CONTENT_SECURITY_POLICY, AsciiString.cached("x-request-id"),
      AsciiString.cached("x-content-type-options"), AsciiString.cached("traceparent"));

  private LowerCaseFieldNames() {}

  /** The name in lower case: a shared constant for the usual names, else a lower-cased copy (or the name itself). */
  static AsciiString of(AsciiString name) {
    int length = name.length();
    if (length < BY_LENGTH.length) {
      for (AsciiString known : BY_LENGTH[length]) {
        if (known.contentEqualsIgnoreCase(name)) {
          return known;
        }
      }
    }
    return name.toLowerCase();
  }

  private static AsciiString[][] byLength(AsciiString... names) {
    int longest = 0;
    for (AsciiString name : names) {
      longest = Math.max(longest, name.length());
    }
    AsciiString[][] table = new AsciiString[longest + 1][];
    for (int length = 0; length <= longest; length++) {
      int count = 0;
      for (AsciiString name : names) {
        count += name.length() == length ? 1 : 0;
      }
      table[length] = new AsciiString[count];
      count = 0;
      for (AsciiString name : names) {
        if (name.length() == length) {
          table[length][count++] = name;
        }
      }
    }
    return table;
  }
}
