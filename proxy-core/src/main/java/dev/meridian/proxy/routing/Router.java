package dev.meridian.proxy.routing;

import java.util.List;
import java.util.TreeSet;

/**
 * Finds the route for a request: routes are tried in configuration order and the first whose host,
 * path prefix and method match wins (a route listing GET takes HEAD too). Immutable; a config reload builds a new router.
 */
public final class Router {
  private final Route[] routes;

  /** Creates a router over the routes, in match order. */
  public Router(List<Route> routes) {
    this.routes = routes.toArray(new Route[0]);
  }

  /**
   * Returns the first matching route, or null when none matches.
   *
   * @param host   the request's host (Host header or absolute-form authority), may be null
   * @param path   the request path without the query
   * @param method the method name
   */
  public Route match(String host, String path, String method) {
    for (Route route : routes) {
      if (route.matches(host, path, method)) {
        return route;
      }
    }
    return null;
  }

  /**
   * The methods the routes for this host and path take, for the {@code Allow} field of a 405, when
   * routes match the host and path but none the method; null when no route matches the host and path,
   * or one takes any method.
   *
   * @param host the request's host, may be null
   * @param path the request path without the query
   */
  public String allowedMethods(String host, String path) {
    TreeSet<String> allowed = new TreeSet<>();
    for (Route route : routes) {
      if (route.matchesTarget(host, path)) {
        if (route.methods().isEmpty()) {
          return null;
        }
        allowed.addAll(route.methods());
        if (route.methods().contains("GET")) {
          allowed.add("HEAD");
        }
      }
    }
    return allowed.isEmpty() ? null : String.join(", ", allowed);
  }

  /** The routes in match order. */
  public List<Route> routes() {
    return List.of(routes);
  }
}
