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
    String decodedDots = path.replace("%2e", ".").replace("%2E", ".");
    int i = 0;
    while (i < decodedDots.length()) {
      int next = decodedDots.indexOf('/', i + 1);
      String segment = decodedDots.substring(i + 1, next < 0 ? decodedDots.length() : next);
      if (segment.equals(".") || segment.equals("..")) {
        return false;
      }
      if (next < 0) {
        break;
      }
      i = next;
    }
    return true;
  }

  private static boolean startsWithIgnoreCase(String s, String prefix) {
    return s.regionMatches(true, 0, prefix, 0, prefix.length());
  }
}
