package dev.meridian.balancer.geo;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How to find a client's region ({@code meridian.geo}); validated when a
 * {@link ClientRegionResolver} is built from it, which reports every problem at once.
 *
 * @param clientRegionHeader header a trusted proxy sets to a region name (like
 *                           {@code X-Client-Region}); null or empty: not used
 * @param countryHeader      header a trusted proxy sets to an ISO country code (like
 *                           {@code CF-IPCountry}); null or empty: not used
 * @param trustedProxies     networks whose headers and {@code X-Forwarded-For} are believed; empty
 *                           (the default): nobody's
 * @param countries          ISO 3166-1 alpha-2 country code (any case) to region, used for the
 *                           country header and the database
 * @param networks           client networks and their regions; the longest matching prefix wins
 * @param database           a MaxMind country database file (GeoLite2-Country.mmdb or compatible);
 *                           empty (the default): none
 * @param trustedHops        proxies in front of Meridian whatever their addresses (a cloud load
 *                           balancer's change): every peer's headers are believed and the client is
 *                           this many entries from the right of {@code X-Forwarded-For}; 0 (the
 *                           default): only {@code trustedProxies} are believed
 */
public record GeoSettings(
    String clientRegionHeader,
    String countryHeader,
    List<String> trustedProxies,
    Map<String, String> countries,
    List<Network> networks,
    Optional<Path> database,
    int trustedHops) {

  /** Settings that resolve no client's region: no headers, tables or database. */
  public static final GeoSettings NONE =
      new GeoSettings(null, null, List.of(), Map.of(), List.of(), Optional.empty(), 0);

  /** Copies the collections; nulls for them mean empty. */
  public GeoSettings {
    trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
    countries = countries == null ? Map.of() : Map.copyOf(countries);
    networks = networks == null ? List.of() : List.copyOf(networks);
    database = database == null ? Optional.empty() : database;
    if (trustedHops < 0) {
      throw new IllegalArgumentException("trustedHops " + trustedHops);
    }
  }

  /** Settings with no trusted hops (only the trusted proxies' networks are believed). */
  public GeoSettings(String clientRegionHeader, String countryHeader, List<String> trustedProxies,
      Map<String, String> countries, List<Network> networks, Optional<Path> database) {
    this(clientRegionHeader, countryHeader, trustedProxies, countries, networks, database, 0);
  }

  /**
   * One entry of {@code meridian.geo.networks}.
   *
   * @param cidr   the client network, like {@code 10.0.0.0/8} or {@code 2001:db8::/32}
   * @param region the region its clients are in
   */
  public record Network(String cidr, String region) {
    public Network {
      Objects.requireNonNull(cidr, "cidr");
      Objects.requireNonNull(region, "region");
    }
  }
}
