package dev.meridian.proxy.server;

import dev.meridian.proxy.routing.Router;
import java.util.Map;

/**
 * The part of the configuration a reload replaces while connections stay open: the routes and the
 * backend groups they send to. A request reads one snapshot from start to end.
 *
 * @param router the routes in match order
 * @param groups the running backend groups by name
 */
record Routing(Router router, Map<String, GroupRuntime> groups) {}
