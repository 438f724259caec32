package dev.meridian.proxy.routing;

import java.util.List;

/**
 * Finds the route for a request: routes are tried in configuration order and the first whose host,
 * path prefix and method match wins. Immutable; a config reload builds a new router.
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

  /** The routes in match order. */
  public List<Route> routes() {
    return List.of(routes);
  }
}
