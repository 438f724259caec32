package dev.meridian.balancer.geo;

import java.net.InetAddress;

/**
 * Tells which country an address is in, as the last resort when no header or configured network
 * decides a client's region (see {@link MaxMindCountryDatabase}).
 */
@FunctionalInterface
public interface CountryDatabase extends AutoCloseable {
  /**
   * The ISO 3166-1 alpha-2 code (like {@code DE}) of the country {@code address} is in, or null when
   * unknown. Called on the request path: must be fast and thread-safe.
   */
  String countryOf(InetAddress address);

  /** Releases the database; does nothing by default. */
  @Override
  default void close() {}
}
