package dev.meridian.proxy.cache;

import dev.meridian.proxy.routing.CachePolicy;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Locale;

/**
 * Builds the edge cache's keys and URLs. A key is the route's name, the method class ({@code GET}:
 * HEAD is answered from GET's entries), scheme (a trusted proxy's client's, as the caller gives it),
 * host (lower case, default port dropped; the origin gets it so), path, the
 * query as the route chooses it, the route's key headers and a trusted proxy's
 * {@code X-Forwarded-Host}; the headers an answer {@code Vary}s on
 * make its variants. The route is always in the key, so two routes never share an entry, and no
 * request header the key leaves out can change which entry a request gets.
 */
public final class CacheKeys {
  private static final char SEPARATOR = '\0';

  private static final String FORWARDED_HOST = "x-forwarded-host";

  private CacheKeys() {}

  /**
   * The host as keys and URLs hold it: lower case, no trailing dot, the port as a number (no leading
   * zeros), without the scheme's default port. A Host that validation passed has one spelling here for
   * each name and port, so no spelling ({@code A.test}, {@code a.test.}, {@code a.test:0080}) makes a
   * key of its own or reaches the origin differently from the key's.
   */
  public static String host(String host, String scheme) {
    if (host == null) {
      return "";
    }
    String h = host.toLowerCase(Locale.ROOT);
    int close = h.startsWith("[") ? h.indexOf(']') : -1;
    int colon = h.indexOf(':', Math.max(close, 0));
    String name = colon < 0 ? h : h.substring(0, colon);
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    if (colon < 0) {
      return name;
    }
    String port = withoutLeadingZeros(h.substring(colon + 1));
    String defaultPort = "https".equals(scheme) ? "443" : "80";
    return port.isEmpty() || port.equals(defaultPort) ? name : name + ':' + port;
  }

  /** A port's digits without leading zeros ({@code 0} stays); other text as it is. */
  private static String withoutLeadingZeros(String port) {
    int first = 0;
    while (first < port.length() - 1 && port.charAt(first) == '0') {
      first++;
    }
    return port.substring(first);
  }

  /** The URL purges match: {@code scheme://host} followed by the origin-form target. */
  public static String url(String scheme, String host, String originForm) {
    return scheme + "://" + host + originForm;
  }

  /**
   * The key of a GET or HEAD request.
   *
   * @param host       as {@link #host} made it (and as the origin gets it)
   * @param originForm the request's path and query
   */
  public static String key(CachePolicy policy, String route, String scheme, String host, String originForm,
      HttpHeaders headers) {
    int q = originForm.indexOf('?');
    String path = q < 0 ? originForm : originForm.substring(0, q);
    String query = q < 0 ? "" : originForm.substring(q + 1);
    StringBuilder key = new StringBuilder(route.length() + originForm.length() + host.length() + 32);
    key.append(route).append(SEPARATOR).append("GET").append(SEPARATOR).append(scheme).append(SEPARATOR)
        .append(host).append(SEPARATOR).append(path).append(SEPARATOR);
    switch (policy.keyQuery()) {
      case ALL -> key.append(query);
      case NONE -> { }
      case LISTED -> appendListed(key, query, policy);
    }
    for (String name : policy.keyHeaders()) {
      List<String> values = headers.getAll(name);
      // A field sent empty is keyed apart from one not sent (RFC 9111 section 4.1): only the latter has no '='.
      key.append(SEPARATOR).append(name);
      if (!values.isEmpty()) {
        key.append('=').append(String.join(", ", values));
      }
    }
    // A trusted proxy's account of the Host its client asked for reaches the origin, which may build
    // links from it (an untrusted peer's was dropped at admission): answers for different ones apart.
    List<String> forwardedHost = headers.getAll(FORWARDED_HOST);
    if (!forwardedHost.isEmpty()) { // every line, as every line reaches the origin
      key.append(SEPARATOR).append(FORWARDED_HOST).append('=')
          .append(String.join(", ", forwardedHost).toLowerCase(Locale.ROOT));
    }
    return key.toString();
  }

  private static void appendListed(StringBuilder key, String query, CachePolicy policy) {
    if (query.isEmpty()) {
      return;
    }
    boolean first = true;
    // Pairs end at '&'. A pair goes into the key whole when its name is listed, or when any of its
    // ';'-separated parts is: backends that split on ';' too (Rack 2, Python before 3.9.2) read
    // "utm=x;id=evil" as id=evil (parameter cloaking), others read "id=2;utm=x" as id "2;utm=x", so
    // neither may share the key of "id=2".
    for (String pair : query.split("&")) {
      if (!pair.isEmpty() && namesListed(pair, policy.keyQueryNames())) {
        key.append(first ? "" : "&").append(pair);
        first = false;
      }
    }
  }

  /** Whether the pair, or any of its {@code ;}-separated parts, names a listed parameter. */
  private static boolean namesListed(String pair, java.util.Set<String> listed) {
    int start = 0;
    while (start <= pair.length()) {
      int end = pair.indexOf(';', start);
      if (end < 0) {
        end = pair.length();
      }
      int eq = pair.indexOf('=', start);
      String name = pair.substring(start, eq < 0 || eq > end ? end : eq);
      if (isListed(name, listed)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  /**
   * Whether a parameter a backend may read as one of the listed names is one: its name is compared
   * as frameworks read names, so that no spelling of a listed parameter can stay out of the key
   * while the backend takes it ({@code %61} or {@code A} for {@code a}, {@code a[]} as PHP's array,
   * {@code a.b} as PHP's {@code a_b}). Such a pair goes into the key as it was sent: a request that
   * spells a parameter twice gets an entry of its own, never another's.
   */
  private static boolean isListed(String rawName, java.util.Set<String> listed) {
    if (listed.contains(rawName)) {
      return true;
    }
    String name = asBackendsRead(rawName);
    for (String each : listed) {
      if (asBackendsRead(each).equals(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A query parameter's name as the loosest common framework reads it: percent-decoded, {@code +}
   * as a space, leading spaces dropped, cut at a {@code [} that a {@code ]} closes (PHP's arrays),
   * lower case, and spaces, dots and an unclosed {@code [} as underscores (PHP's renaming).
   */
  static String asBackendsRead(String name) {
    StringBuilder decoded = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '%' && i + 2 < name.length() && Character.digit(name.charAt(i + 1), 16) >= 0
          && Character.digit(name.charAt(i + 2), 16) >= 0) {
        c = (char) (Character.digit(name.charAt(i + 1), 16) * 16 + Character.digit(name.charAt(i + 2), 16));
        i += 2;
      } else if (c == '+') {
        c = ' ';
      }
      if (c != ' ' || decoded.length() > 0) {
        decoded.append(c);
      }
    }
    int bracket = decoded.indexOf("[");
    if (bracket >= 0 && decoded.indexOf("]", bracket) > bracket) {
      decoded.setLength(bracket);
    }
    StringBuilder out = new StringBuilder(decoded.length());
    for (int i = 0; i < decoded.length(); i++) {
      char c = decoded.charAt(i);
      out.append(c == ' ' || c == '.' || c == '[' ? '_' : Character.toLowerCase(c));
    }
    return out.toString();
  }
}
