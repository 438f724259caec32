/**
 * Where a client is: its region, decided from a header a trusted proxy set, a country header, the
 * client address in a CIDR table, or a country database, in that order (see
 * {@link dev.meridian.balancer.geo.ClientRegionResolver}). Plain Java with no Netty dependency; the
 * proxy adapts its request headers to {@link dev.meridian.balancer.geo.HeaderLookup}. Addresses are
 * parsed from text without DNS, and the tables are built once from settings and then only read.
 */
package dev.meridian.balancer.geo;
