package dev.meridian.proxy.routing;

/**
 * The parts of a request target that routing reads: the path without the query, checked for the
 * shapes that would let a request match one route and reach a different resource on the backend.
 *
 * @param path      the path (origin-form, starts with {@code /}), without query
 * @param authority the authority of an absolute-form target, or null
 * @param originForm the target to send upstream (origin-form: path and query)
 */
public record RequestTarget(String path, String authority, String originForm) {

  /** Parses a request target under the default {@link PathPolicy}. */
  public static RequestTarget parse(String uri, String method) {
    return parse(uri, method, PathPolicy.DEFAULT);
  }

  /**
   * Parses a request target and normalizes its path: encoded unreserved characters decoded, and as
   * {@code policy} says (merged slashes, encoded slashes decoded); the origin form to forward carries
   * the normalized path.
   *
   * @return the target, or null when it is not acceptable (not origin- or absolute-form, a dot
   *     segment, plain or with encoded dots or with path parameters, a backslash, plain or encoded, a
   *     fragment, or an encoded slash the policy refuses)
   */
  public static RequestTarget parse(String uri, String method, PathPolicy policy) {
    String authority = null;
    String target = uri;
    if ("OPTIONS".equals(method) && "*".equals(uri)) {
      return new RequestTarget("*", null, "*");
    }
    if (startsWithIgnoreCase(uri, "http://") || startsWithIgnoreCase(uri, "https://")) {
      int start = uri.indexOf("//") + 2;
      int slash = uri.indexOf('/', start);
      int query = uri.indexOf('?', start);
      int end = slash >= 0 ? slash : (query >= 0 ? query : uri.length());
      authority = uri.substring(start, end);
      if (authority.isEmpty() || authority.indexOf('@') >= 0) {
        return null;
      }
      target = slash >= 0 ? uri.substring(slash) : "/" + uri.substring(end);
    }
    if (target.isEmpty() || target.charAt(0) != '/') {
      return null;
    }
    int q = target.indexOf('?');
    if (q >= 0 && target.indexOf('#', q) >= 0) {
      return null; // a fragment is never sent (RFC 9112 section 3.2); '#' is no query character either
    }
    String path = q >= 0 ? target.substring(0, q) : target;
    String normalized = normalize(path, policy);
    if (normalized == null || !isSafePath(normalized)) {
      return null;
    }
    if (normalized != path) {
      target = q >= 0 ? normalized + target.substring(q) : normalized;
    }
    return new RequestTarget(normalized, authority, target);
  }

  /**
   * The path with encoded slashes and runs of slashes treated as the policy says; the same instance
   * when nothing changed, null when the policy refuses it.
   */
  private static String normalize(String path, PathPolicy policy) {
    String p = path.indexOf('%') >= 0 ? decodeUnreserved(path) : path;
    if (policy.encodedSlash() != PathPolicy.EncodedSlash.KEEP && hasEncodedSlash(p)) {
      if (policy.encodedSlash() == PathPolicy.EncodedSlash.REJECT) {
        return null;
      }
      p = p.replace("%2F", "/").replace("%2f", "/");
    }
    if (policy.mergeSlashes() && p.contains("//")) {
      StringBuilder merged = new StringBuilder(p.length());
      for (int i = 0; i < p.length(); i++) {
        char c = p.charAt(i);
        if (c != '/' || merged.length() == 0 || merged.charAt(merged.length() - 1) != '/') {
          merged.append(c);
        }
      }
      p = merged.toString();
    }
    return p;
  }

  /**
   * The path with percent-encoded unreserved characters (letters, digits, {@code - . _ ~}) decoded,
   * as RFC 3986 section 6.2.2.2 says equivalent URIs are normalized: {@code /%61dmin} is
   * {@code /admin}, to the router and to most backends alike, so it is routed (and forwarded) as
   * {@code /admin}. Other escapes stay as they came. The same instance when nothing changed.
   */
  static String decodeUnreserved(String path) {
    StringBuilder decoded = null;
    int copied = 0;
    for (int i = path.indexOf('%'); i >= 0 && i + 2 < path.length(); i = path.indexOf('%', i + 1)) {
      int high = Character.digit(path.charAt(i + 1), 16);
      int low = Character.digit(path.charAt(i + 2), 16);
      if (high < 0 || low < 0 || !isUnreserved((char) (high * 16 + low))) {
        continue;
      }
      if (decoded == null) {
        decoded = new StringBuilder(path.length());
      }
      decoded.append(path, copied, i).append((char) (high * 16 + low));
      copied = i + 3;
      i += 2;
    }
    return decoded == null ? path : decoded.append(path, copied, path.length()).toString();
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  private static boolean hasEncodedSlash(String path) {
    for (int i = path.indexOf('%'); i >= 0 && i + 2 < path.length(); i = path.indexOf('%', i + 1)) {
      if (path.charAt(i + 1) == '2' && (path.charAt(i + 2) == 'F' || path.charAt(i + 2) == 'f')) {
        return true;
      }
    }
    return false;
  }

  private static boolean isSafePath(String path) {
    if (path.indexOf('\\') >= 0 || path.indexOf('#') >= 0 || hasEncodedBackslash(path)) {
      return false;
    }
    // Walk the segments without copying them: a segment of one or two dots, each written as '.' or
    // '%2e' in any case, is a dot segment.
    int i = 0;
    int n = path.length();
    while (i < n) {
      int start = i + 1;
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = n;
      }
      int dots = dotsIfOnlyDots(path, start, end);
      if (dots == 1 || dots == 2) {
        return false;
      }
      i = end;
    }
    return true;
  }

  private static boolean hasEncodedBackslash(String path) {
    for (int i = path.indexOf('%'); i >= 0 && i + 2 < path.length(); i = path.indexOf('%', i + 1)) {
      if (path.charAt(i + 1) == '5' && (path.charAt(i + 2) == 'C' || path.charAt(i + 2) == 'c')) {
        return true;
      }
    }
    return false;
  }

  /**
   * The number of dots when {@code path[start, end)} is only dots ({@code .} or {@code %2e}), else
   * -1. Path parameters after the dots count for nothing: {@code ..;x} is a dot segment to servers
   * that drop a segment's parameters before resolving it (Tomcat, Jetty).
   */
  private static int dotsIfOnlyDots(String path, int start, int end) {
    int dots = 0;
    int j = start;
    while (j < end) {
      if (path.charAt(j) == ';' && dots > 0) {
        return dots;
      }
      if (path.charAt(j) == '.') {
        j++;
      } else if (j + 2 < end && path.charAt(j) == '%' && path.charAt(j + 1) == '2'
          && (path.charAt(j + 2) == 'e' || path.charAt(j + 2) == 'E')) {
        j += 3;
      } else {
        return -1;
      }
      dots++;
    }
    return dots;
  }

  private static boolean startsWithIgnoreCase(String s, String prefix) {
    return s.regionMatches(true, 0, prefix, 0, prefix.length());
  }
}
