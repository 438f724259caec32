package dev.meridian.proxy.http;

import dev.meridian.proxy.http1.FieldNames;
import dev.meridian.proxy.http1.RawHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Removes the headers that describe one connection rather than the message (RFC 9110 section 7.6.1):
 * the fixed hop-by-hop set and every header the Connection header names.
 *
 * <p>Framing headers (Content-Length) and Host are never removed because Connection names them: a
 * client's {@code Connection: Content-Length} must not change how a backend reads the body.
 */
public final class HopByHopHeaders {
  private static final AsciiString[] NONE = {};
  private static final List<AsciiString> FIXED = List.of(
      HttpHeaderNames.CONNECTION,
      HttpHeaderNames.KEEP_ALIVE,
      AsciiString.cached("proxy-connection"),
      HttpHeaderNames.TE,
      HttpHeaderNames.TRAILER,
      HttpHeaderNames.TRANSFER_ENCODING,
      HttpHeaderNames.UPGRADE);

  /** The fixed set, for a head read in place: removed in one pass over its fields. */
  private static final FieldNames FIXED_NAMES = new FieldNames(FIXED);
  /** The fixed set but Upgrade, for a message that switches protocols. */
  private static final FieldNames FIXED_BUT_UPGRADE =
      new FieldNames(FIXED.stream().filter(name -> name != HttpHeaderNames.UPGRADE).toList());

  private HopByHopHeaders() {}

  /**
   * Removes hop-by-hop headers.
   *
   * @param headers     the message's headers, changed in place
   * @param keepUpgrade keep {@code Upgrade} (the message negotiates a protocol switch)
   */
  static void strip(HttpHeaders headers, boolean keepUpgrade) {
    strip(headers, keepUpgrade, NONE);
  }

  /**
   * Removes hop-by-hop headers, except those named in {@code keep} even when {@code Connection} names
   * them (the request id and trace context, which Meridian sets and forwards whatever the client says).
   */
  static void strip(HttpHeaders headers, boolean keepUpgrade, AsciiString[] keep) {
    if (headers instanceof RawHeaders raw && raw.listElementsAllIn(HttpHeaderNames.CONNECTION, FIXED_NAMES)) {
      // The usual case (no Connection, or one naming only fixed names such as keep-alive): one pass
      // over the fields, and no String made of the Connection value.
      raw.removeAll(keepUpgrade ? FIXED_BUT_UPGRADE : FIXED_NAMES);
      return;
    }
    if (headers.contains(HttpHeaderNames.CONNECTION)) {
      List<String> connectionValues = headers.getAll(HttpHeaderNames.CONNECTION);
      for (int v = 0; v < connectionValues.size(); v++) {
        removeNamed(headers, connectionValues.get(v), keep);
      }
    }
    removeFixed(headers, keepUpgrade);
  }

  /**
   * Removes the headers one Connection value names ({@code "keep-alive, X-Foo"}): its
   * comma-separated tokens, whitespace around them ignored, read in place. The names of the fixed set
   * are left to {@link #removeFixed}, so the common values ({@code close}, {@code keep-alive},
   * {@code Upgrade}) make no {@code String}.
   */
  private static void removeNamed(HttpHeaders headers, String value, AsciiString[] keep) {
    int length = value.length();
    int index = 0;
    while (index < length) {
      int start = index;
      int comma = value.indexOf(',', start);
      int end = comma < 0 ? length : comma;
      index = end + 1;
      while (start < end && isOws(value.charAt(start))) {
        start++;
      }
      while (end > start && isOws(value.charAt(end - 1))) {
        end--;
      }
      if (is(HttpHeaderValues.CLOSE, value, start, end)) {
        headers.remove(HttpHeaderValues.CLOSE); // the option, and a field of that name if one came
        continue;
      }
      if (start == end || isFixed(value, start, end)
          || is(HttpHeaderNames.CONTENT_LENGTH, value, start, end) || is(HttpHeaderNames.HOST, value, start, end)
          || isAny(keep, value, start, end)) {
        continue; // fixed names go anyway; framing, Host and keep stay
      }
      headers.remove(value.substring(start, end));
    }
  }

  private static boolean isFixed(String value, int start, int end) {
    for (int i = 0; i < FIXED.size(); i++) {
      if (is(FIXED.get(i), value, start, end)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isAny(AsciiString[] names, String value, int start, int end) {
    for (AsciiString name : names) {
      if (is(name, value, start, end)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the text between the indexes is the name, ignoring case. */
  private static boolean is(AsciiString name, String value, int start, int end) {
    return end - start == name.length() && value.regionMatches(true, start, name.toString(), 0, end - start);
  }

  private static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }

  /**
   * The message's end-to-end headers, in order, leaving the headers as they are: what {@link #strip}
   * would keep (Upgrade included in what goes).
   */
  public static List<Map.Entry<String, String>> endToEnd(HttpHeaders headers) {
    Set<String> named = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : value.split(",")) {
        String name = token.trim();
        if (!name.isEmpty() && !isProtected(name)) {
          named.add(name);
        }
      }
    }
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (Map.Entry<String, String> h : headers) {
      String name = h.getKey();
      if (!named.contains(name) && FIXED.stream().noneMatch(f -> f.contentEqualsIgnoreCase(name))) {
        out.add(new AbstractMap.SimpleImmutableEntry<>(name, h.getValue()));
      }
    }
    return out;
  }

  private static void removeFixed(HttpHeaders headers, boolean keepUpgrade) {
    for (int i = 0; i < FIXED.size(); i++) {
      AsciiString name = FIXED.get(i);
      if (!(keepUpgrade && name == HttpHeaderNames.UPGRADE)) {
        headers.remove(name);
      }
    }
  }

  private static boolean isProtected(String name) {
    return HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.HOST.contentEqualsIgnoreCase(name);
  }
}
