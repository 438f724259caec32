package dev.meridian.proxy.http;

/**
 * Finds one cookie's value in a request's {@code Cookie} header without allocating: the pairs are
 * {@code name=value} separated by {@code ;} and optional spaces (RFC 6265 section 5.4; HTTP/2's
 * split cookie fields arrive joined by {@code "; "}), a value may be in double quotes.
 */
public final class RequestCookies {
  private RequestCookies() {}

  /**
   * Where the first cookie named {@code name} has its value in {@code header}.
   *
   * @return {@code start << 32 | end} of the value (quotes left out), or -1 when there is none
   */
  public static long find(CharSequence header, String name) {
    return find(header, name, 0);
  }

  /**
   * As {@link #find(CharSequence, String)}, looking from {@code from} on (the end of a value found
   * before, for the next cookie of the same name).
   */
  public static long find(CharSequence header, String name, int from) {
    int length = header.length();
    int i = from;
    while (i < length) {
      while (i < length && (header.charAt(i) == ' ' || header.charAt(i) == '\t')) {
        i++;
      }
      int pairEnd = i;
      while (pairEnd < length && header.charAt(pairEnd) != ';') {
        pairEnd++;
      }
      if (pairEnd - i > name.length() && header.charAt(i + name.length()) == '=' && startsWith(header, i, name)) {
        int start = i + name.length() + 1;
        int end = pairEnd;
        while (end > start && (header.charAt(end - 1) == ' ' || header.charAt(end - 1) == '\t')) {
          end--;
        }
        if (end - start >= 2 && header.charAt(start) == '"' && header.charAt(end - 1) == '"') {
          start++;
          end--;
        }
        return (long) start << 32 | end;
      }
      i = pairEnd + 1;
    }
    return -1;
  }

  /**
   * Whether every cookie in {@code header} has one of {@code names} and a value of the alphabet
   * Meridian issues its own cookies in (base64url), and there is at least one: a request carrying only
   * Meridian's routing cookies carries no credentials of the application's. Any other character in a
   * value, and any comma, counts as a credential: parsers that split on whitespace (Python's
   * SimpleCookie) or commas (Rack 2, Tomcat's legacy parser) would read {@code pin=x session=abc} as
   * a session of its own.
   */
  public static boolean onlyNamed(CharSequence header, java.util.Set<String> names) {
    String text = header.toString();
    if (text.indexOf(',') >= 0) {
      return false;
    }
    boolean any = false;
    for (String pair : text.split(";")) {
      String cookie = pair.strip();
      if (cookie.isEmpty()) {
        continue;
      }
      int eq = cookie.indexOf('=');
      if (eq <= 0 || !names.contains(cookie.substring(0, eq)) || !isBase64Url(cookie, eq + 1)) {
        return false;
      }
      any = true;
    }
    return any;
  }

  private static boolean isBase64Url(String text, int from) {
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
        return false;
      }
    }
    return true;
  }

  /** The start of a range {@link #find} returned. */
  public static int start(long range) {
    return (int) (range >>> 32);
  }

  /** The end (exclusive) of a range {@link #find} returned. */
  public static int end(long range) {
    return (int) range;
  }

  private static boolean startsWith(CharSequence text, int offset, String prefix) {
    for (int k = 0; k < prefix.length(); k++) {
      if (text.charAt(offset + k) != prefix.charAt(k)) {
        return false;
      }
    }
    return true;
  }
}
