/**
 * Routing: which route a request belongs to, by host pattern, path prefix and method, and the
 * request-target checks that keep a path from matching one route and reaching another resource.
 */
package dev.meridian.proxy.routing;
