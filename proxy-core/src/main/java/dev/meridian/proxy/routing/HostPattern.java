package dev.meridian.proxy.routing;

import java.util.Locale;

/**
 * Matches a request's host against an exact name ({@code api.example.com}) or a wildcard suffix
 * ({@code *.example.com}, which matches any name below example.com but not example.com itself).
 * Comparison ignores case, a port and a trailing dot.
 */
public final class HostPattern {
  private final String exact;
  private final String suffix;

  private HostPattern(String exact, String suffix) {
    this.exact = exact;
    this.suffix = suffix;
  }

  /**
   * Parses a pattern.
   *
   * @throws IllegalArgumentException when the pattern is neither a name nor {@code *.suffix}
   */
  public static HostPattern parse(String pattern) {
    String p = pattern.trim().toLowerCase(Locale.ROOT);
    if (p.startsWith("*.") && p.length() > 2 && p.indexOf('*', 1) < 0) {
      return new HostPattern(null, p.substring(1));
    }
    if (p.isEmpty() || p.indexOf('*') >= 0) {
      throw new IllegalArgumentException(
          "host: '" + pattern + "' (expected: a name like api.example.com or a wildcard like *.example.com)");
    }
    return new HostPattern(p, null);
  }

  /** Whether the host (as in a Host header: may carry a port, any case) matches. */
  public boolean matches(String host) {
    if (host == null) {
      return false;
    }
    String name = normalize(host);
    if (exact != null) {
      return exact.equals(name);
    }
    return name.length() > suffix.length() && name.endsWith(suffix);
  }

  /**
   * Whether a Host value (or absolute-form authority) is a name, IPv4 or bracketed IPv6 address with
   * an optional port 0-65535. A name has no empty label (no leading dot, no two dots in a row) and
   * at most one trailing dot. An empty Host is allowed (RFC 9112: a target without authority).
   */
  public static boolean isValidHost(String host) {
    int length = host.length();
    if (length == 0) {
      return true;
    }
    if (length > 255) {
      return false;
    }
    int portStart; // where the port's digits start (after the colon), or length when there is none
    if (host.charAt(0) == '[') {
      int close = host.indexOf(']');
      if (close < 0) {
        return false;
      }
      for (int i = 1; i < close; i++) {
        char c = host.charAt(i);
        if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
          return false;
        }
      }
      if (close + 1 < length && host.charAt(close + 1) != ':') {
        return false;
      }
      portStart = close + 1 < length ? close + 2 : length;
    } else {
      int colon = host.indexOf(':');
      int nameEnd = colon >= 0 ? colon : length;
      if (nameEnd == 0) {
        return false;
      }
      for (int i = 0; i < nameEnd; i++) {
        char c = host.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '-' || c == '_' || (c == '.' && i > 0 && host.charAt(i - 1) != '.');
        if (!ok) {
          return false; // a byte no name holds, or an empty label (as nginx refuses a.test..)
        }
      }
      portStart = colon >= 0 ? colon + 1 : length;
    }
    if (portStart == length) {
      return host.charAt(length - 1) != ':'; // no port, or a colon with none after it
    }
    return isPort(host, portStart);
  }

  /** Whether the text from {@code from} to its end is a port: 1-5 digits, at most 65535. */
  private static boolean isPort(String host, int from) {
    int digits = host.length() - from;
    if (digits < 1 || digits > 5) {
      return false;
    }
    int port = 0;
    for (int i = from; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
      port = port * 10 + (c - '0');
    }
    return port <= 65535;
  }

  /** The host name of a Host header value: lower case, without port, brackets or trailing dot. */
  public static String normalize(String host) {
    String h = host.trim();
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      h = close > 0 ? h.substring(1, close) : h;
    } else {
      int colon = h.lastIndexOf(':');
      if (colon >= 0 && h.indexOf(':') == colon) {
        h = h.substring(0, colon);
      }
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h.toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return exact != null ? exact : "*" + suffix;
  }
}
