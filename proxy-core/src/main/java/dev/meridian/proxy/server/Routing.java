package dev.meridian.proxy.server;

import dev.meridian.balancer.ReadYourWritesCookie;
import dev.meridian.proxy.routing.Route;
import dev.meridian.proxy.routing.Router;
import dev.meridian.proxy.routing.StickyPolicy;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The part of the configuration a reload replaces while connections stay open: the routes and the
 * backend groups they send to. A request reads one snapshot from start to end.
 *
 * @param router the routes in match order
 * @param groups the running backend groups by name
 * @param routingCookies the names of the cookies Meridian itself sets (sticky pins under their present
 *               and former names, read-your-writes): they carry no credentials of the application's
 */
record Routing(Router router, Map<String, GroupRuntime> groups, Set<String> routingCookies) {

  Routing(Router router, Map<String, GroupRuntime> groups) {
    this(router, groups, routingCookies(router));
  }

  private static Set<String> routingCookies(Router router) {
    Set<String> names = new HashSet<>();
    names.add(ReadYourWritesCookie.NAME);
    for (Route route : router.routes()) {
      StickyPolicy sticky = route.sticky();
      if (sticky != null && sticky.mode() == StickyPolicy.Mode.COOKIE) {
        names.add(sticky.cookie());
        if (!sticky.formerCookie().isEmpty()) {
          names.add(sticky.formerCookie());
        }
      }
    }
    return Set.copyOf(names);
  }
}
