package dev.meridian.proxy.routing;

import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.BackendSelector;
import dev.meridian.balancer.RetryBudget;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One routing rule and what it sends to: a request whose host, path and method match goes to the
 * route's backend group, picked by the group's selector.
 *
 * @param name        the route's name, for logs and metrics
 * @param host        the host pattern, or null for any host
 * @param pathPrefix  the path prefix the request path must start with
 * @param methods     the allowed methods in upper case (GET allows HEAD too); empty for any
 * @param group       the backend group
 * @param selector    picks a backend of the group
 * @param rewriteHost send the backend's authority as Host
 * @param upgrades    protocols (lower case) a client may switch to through this route
 * @param tunnelIdle  how long a tunnel of this route (a connection after a protocol switch) may pass
 *                    nothing either way before it is closed
 * @param responseHeaders how long a backend has to send a response's headers once the request was
 *                    sent (each attempt anew)
 * @param responseDeadline how long a request may wait for its response headers in all, every try
 *                    together (see {@code RequestDeadline}); zero for no such limit
 * @param residency   the route's data residency rule, or null
 * @param retries     when and how often a failed request is tried again
 * @param retryBudget the budget the route's retries draw from
 * @param sticky      the route's sticky sessions, or null for none
 * @param cache       the route's edge cache, or null for none
 * @param hedge       the route's hedged requests (policy and delay), or null for none
 */
public record Route(
    String name,
    HostPattern host,
    String pathPrefix,
    Set<String> methods,
    BackendGroup group,
    BackendSelector selector,
    boolean rewriteHost,
    Set<String> upgrades,
    Duration tunnelIdle,
    Duration responseHeaders,
    Duration responseDeadline,
    Residency residency,
    RetrySettings retries,
    RetryBudget retryBudget,
    StickyPolicy sticky,
    CachePolicy cache,
    HedgeDelay hedge) {

  /** Copies the collections. */
  public Route {
    methods = Set.copyOf(methods);
    upgrades = Set.copyOf(upgrades);
  }

  /** Whether the request matches this route. */
  public boolean matches(String requestHost, String path, String method) {
    return matchesTarget(requestHost, path) && allowsMethod(method);
  }

  /** Whether a request for this host and path matches the route's host and path prefix. */
  public boolean matchesTarget(String requestHost, String path) {
    return (host == null || host.matches(requestHost)) && path.startsWith(pathPrefix);
  }

  /** Whether the route takes the method: any without a method list, HEAD wherever GET is listed. */
  public boolean allowsMethod(String method) {
    return methods.isEmpty() || methods.contains(method) || "HEAD".equals(method) && methods.contains("GET");
  }

  /** Whether a client may switch to this protocol (an Upgrade header value) through this route. */
  public boolean allowsUpgrade(String protocol) {
    return protocol != null && upgrades.contains(upgradeToken(protocol));
  }

  /** An Upgrade value's protocol name, lower case, without its version: "WebSocket/13" is "websocket". */
  public static String upgradeToken(String protocol) {
    String p = protocol.trim().toLowerCase(Locale.ROOT);
    int slash = p.indexOf('/');
    return slash >= 0 ? p.substring(0, slash) : p;
  }

  /** The upgrade tokens as a list, for the admin API. */
  public List<String> upgradeList() {
    return List.copyOf(upgrades);
  }
}
