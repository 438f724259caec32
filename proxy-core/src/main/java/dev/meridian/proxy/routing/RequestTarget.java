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

  /**
   * Parses a request target.
   *
   * @return the target, or null when it is not acceptable (not origin- or absolute-form, a dot
   *     segment, plain or with encoded dots, a backslash or a fragment)
   */
  public static RequestTarget parse(String uri, String method) {
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
    String path = q >= 0 ? target.substring(0, q) : target;
    if (!isSafePath(path)) {
      return null;
    }
    return new RequestTarget(path, authority, target);
  }

  private static boolean isSafePath(String path) {
    if (path.indexOf('\\') >= 0 || path.indexOf('#') >= 0) {
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

  /** The number of dots when {@code path[start, end)} is only dots ({@code .} or {@code %2e}), else -1. */
  private static int dotsIfOnlyDots(String path, int start, int end) {
    int dots = 0;
    int j = start;
    while (j < end) {
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
