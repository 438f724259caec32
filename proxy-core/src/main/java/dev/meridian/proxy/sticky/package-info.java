/**
 * Sticky sessions' keys: the signing keys of the cookies that pin a client to a backend, read from
 * the keys file and reloaded when it changes, so every instance of a fleet honours every other's
 * cookies. The cookie format is {@link dev.meridian.balancer.StickyCookie}'s; the pin is honoured
 * by {@link dev.meridian.balancer.RegionalSelector}; the request's part is the server's
 * {@code StickySessions}.
 */
package dev.meridian.proxy.sticky;
