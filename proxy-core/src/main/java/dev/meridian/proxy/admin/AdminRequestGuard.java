package dev.meridian.proxy.admin;

import dev.meridian.proxy.routing.HostPattern;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.NetUtil;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Keeps web pages out of the admin API. A browser lets any page it shows send a form POST to any
 * address it can reach, the admin listener's included (a cross-site request forgery), and lets a page
 * whose name an attacker re-points at the admin address read the answers (DNS rebinding). So:
 * <ul>
 *   <li>a call that changes something (any method but GET, HEAD and OPTIONS) is refused when its
 *       {@code Origin} is neither the address it was sent to nor a name in {@code admin.allowed-hosts},
 *       or, without an {@code Origin}, when the browser marks it {@code Sec-Fetch-Site} other than
 *       {@code same-origin} or {@code none}; tools such as curl send neither and pass;</li>
 *   <li>any call but {@code /healthz} and {@code /readyz} is refused when its {@code Host} names the
 *       listener by a dotted name nobody listed in {@code admin.allowed-hosts}: an IP address,
 *       {@code localhost} and a name without a dot (a container's or a Compose service's) pass.</li>
 * </ul>
 * Stateless but for the names allowed; any thread.
 */
final class AdminRequestGuard {
  private final Set<String> allowedHosts;

  /** A guard that also lets these host names through (any case, no port). */
  AdminRequestGuard(List<String> allowedHosts) {
    this.allowedHosts = allowedHosts.stream().map(AdminRequestGuard::hostName).collect(Collectors.toSet());
  }

  /** Why the request must be refused (403), or null when it may go on. */
  String refusal(HttpRequest request, String path) {
    String host = request.headers().get(HttpHeaderNames.HOST);
    if (host != null && !HostPattern.isValidHost(host.trim())) {
      return "a malformed Host header (expected: a name or an IP address, and an optional port)";
    }
    if (host != null && !path.equals("/healthz") && !path.equals("/readyz") && !isAllowedHost(hostName(host))) {
      return "the admin API is not served under the name '" + hostName(host)
          + "' (a guard against DNS rebinding); list it in meridian.admin.allowed-hosts";
    }
    if (changesState(request.method())) {
      String origin = request.headers().get(HttpHeaderNames.ORIGIN);
      if (origin != null && !sameAuthority(origin, host) && !isListedOrigin(origin)) {
        return "a call from the web page at " + origin + " (a guard against cross-site request forgery)";
      }
      String site = request.headers().get("sec-fetch-site");
      if (origin == null && site != null && !site.equalsIgnoreCase("same-origin") && !site.equalsIgnoreCase("none")) {
        return "a call from a page of another site (Sec-Fetch-Site: " + site + ")";
      }
    }
    return null;
  }

  private static boolean changesState(HttpMethod method) {
    return !method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD) && !method.equals(HttpMethod.OPTIONS);
  }

  private boolean isAllowedHost(String name) {
    return name.isEmpty() || NetUtil.isValidIpV4Address(name) || NetUtil.isValidIpV6Address(name)
        || name.equals("localhost") || name.endsWith(".localhost") || name.indexOf('.') < 0
        || allowedHosts.contains(name);
  }

  /** The name in a Host value, lower case, without its port or an IPv6 literal's brackets. */
  static String hostName(String host) {
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      return close < 0 ? h : h.substring(1, close);
    }
    int colon = h.indexOf(':');
    h = colon < 0 ? h : h.substring(0, colon);
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }

  /** Whether an Origin's host is one of admin.allowed-hosts (a page served under the admin's own name). */
  private boolean isListedOrigin(String origin) {
    try {
      String originHost = new URI(origin.trim()).getHost();
      return originHost != null && allowedHosts.contains(hostName(originHost));
    } catch (java.net.URISyntaxException e) {
      return false;
    }
  }

  /**
   * Whether an Origin ("scheme://host[:port]") names the same host and port as the Host value (a
   * Host without a port names the Origin scheme's default port; behind a proxy that takes the port
   * off, list the name in admin.allowed-hosts).
   */
  private static boolean sameAuthority(String origin, String host) {
    if (host == null) {
      return false;
    }
    try {
      URI uri = new URI(origin.trim());
      if (uri.getHost() == null) {
        return false; // "null" (a sandboxed or file: page), or not a URL
      }
      int defaultPort = "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
      int port = uri.getPort() >= 0 ? uri.getPort() : defaultPort;
      String originHost = hostName(uri.getHost());
      String h = host.trim();
      int hostPort = portOf(h);
      // A Host without a port is the scheme's default port's: a page on another port of the same host
      // (the proxy's own listener, any app there) is another origin.
      return originHost.equals(hostName(h)) && port == (hostPort < 0 ? defaultPort : hostPort);
    } catch (java.net.URISyntaxException e) {
      return false;
    }
  }

  private static int portOf(String host) {
    int close = host.lastIndexOf(']');
    int colon = host.lastIndexOf(':');
    if (colon <= close || colon == host.length() - 1) {
      return -1;
    }
    try {
      return Integer.parseInt(host.substring(colon + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
