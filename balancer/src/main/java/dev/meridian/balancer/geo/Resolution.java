package dev.meridian.balancer.geo;

import java.util.Locale;

/**
 * A client's region and which source decided it, for the {@code X-Meridian-Decision} debug header.
 * The resolver hands out shared instances, so resolving allocates none.
 *
 * @param region the region name, one of the known regions
 * @param source what decided it
 */
public record Resolution(String region, Source source) {
  /** Where a client's region came from, in the order the resolver tries them. */
  public enum Source {
    /** The client-region header, set by a trusted proxy. */
    HEADER,
    /** The country header, set by a trusted proxy, through the countries table. */
    COUNTRY,
    /** The client address in the configured networks (longest prefix). */
    NETWORK,
    /** The client address in the country database, through the countries table. */
    DATABASE;

    private final String label = name().toLowerCase(Locale.ROOT);

    /** The lower-case name for debug headers and logs: {@code header}, {@code country}, ... */
    public String label() {
      return label;
    }
  }

  @Override
  public String toString() {
    return region + " (" + source.label() + ")";
  }
}
