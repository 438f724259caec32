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
