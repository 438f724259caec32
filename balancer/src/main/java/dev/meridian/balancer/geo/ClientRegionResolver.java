package dev.meridian.balancer.geo;

import dev.meridian.balancer.geo.Resolution.Source;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.LongAdder;

/**
 * Decides which region a client is in, trying in order and taking the first answer:
 *
 * <ol>
 *   <li><b>header</b>: the client-region header, when the peer is a trusted proxy and the value is
 *       a known region (anything else is ignored);
 *   <li><b>country</b>: the country header, when the peer is a trusted proxy, through the countries
 *       table (codes in any case);
 *   <li><b>network</b>: the client address in the networks table, longest prefix first;
 *   <li><b>database</b>: the client address in the country database, through the countries table.
 * </ol>
 *
 * <p>The client address is the peer's, unless the peer is a trusted proxy: then it is the right-most
 * address in {@code X-Forwarded-For} that is not itself a trusted proxy (entries are walked from the
 * right, as each proxy appends the address it saw); with trusted hops N, the N-th entry from the
 * right, whatever it is (the left-most when there are fewer). When every entry is trusted it is the left-most;
 * without the header it is the peer's; when the walk reaches an entry that is not an address
 * ({@code unknown}) before an untrusted one, the client address is unknown and steps 3 and 4 are
 * skipped rather than guess with a proxy's address.
 *
 * <p>Immutable and thread-safe. Resolving allocates only the copy of the peer address,
 * {@code X-Forwarded-For} entries when the peer is trusted, and whatever the database needs.
 */
public final class ClientRegionResolver implements AutoCloseable {
  /** The header proxies append client addresses to. */
  public static final String X_FORWARDED_FOR = "X-Forwarded-For";

  /** Country codes are two characters of [0-9A-Z] (ISO codes plus CDN codes like {@code T1}). */
  private static final int CODE_CHARS = 36;

  private final String clientRegionHeader;
  private final String countryHeader;
  private final TrustedProxies trustedProxies;
  private final Map<String, Resolution> headerRegions;
  private final Resolution[] countryRegions;
  private final Resolution[] databaseRegions;
  private final CidrTable<Resolution> networks;
  private final CountryDatabase database;
  private final LongAdder databaseErrors = new LongAdder();

  private ClientRegionResolver(String clientRegionHeader, String countryHeader,
      TrustedProxies trustedProxies, Map<String, Resolution> headerRegions,
      Resolution[] countryRegions, Resolution[] databaseRegions, CidrTable<Resolution> networks,
      CountryDatabase database) {
    this.clientRegionHeader = clientRegionHeader;
    this.countryHeader = countryHeader;
    this.trustedProxies = trustedProxies;
    this.headerRegions = headerRegions;
    this.countryRegions = countryRegions;
    this.databaseRegions = databaseRegions;
    this.networks = networks;
    this.database = database;
  }

  /**
   * Builds a resolver from settings, opening {@link GeoSettings#database()} when one is set.
   *
   * @param settings     the settings
   * @param knownRegions every region name the configuration uses; header values outside it are
   *                     ignored, and table entries outside it are configuration errors
   * @throws IllegalArgumentException listing every problem in the settings
   */
  public static ClientRegionResolver create(GeoSettings settings, Set<String> knownRegions) {
    List<String> problems = new ArrayList<>();
    CountryDatabase database = null;
    if (settings.database().isPresent()) {
      Path file = settings.database().get();
      try {
        database = MaxMindCountryDatabase.open(file);
      } catch (IOException | RuntimeException e) {
        problems.add("database: '" + file + "' could not be read: " + e.getMessage()
            + " (expected: a MaxMind country database such as GeoLite2-Country.mmdb)");
      }
    }
    try {
      return build(settings, knownRegions, database, problems);
    } catch (RuntimeException e) {
      if (database != null) {
        database.close();
      }
      throw e;
    }
  }

  /**
   * Builds a resolver from settings with the given country database (null: none) in place of
   * {@link GeoSettings#database()}; the resolver closes it.
   *
   * @throws IllegalArgumentException listing every problem in the settings
   */
  public static ClientRegionResolver create(GeoSettings settings, Set<String> knownRegions,
      CountryDatabase database) {
    return build(settings, knownRegions, database, new ArrayList<>());
  }

  private static ClientRegionResolver build(GeoSettings settings, Set<String> knownRegions,
      CountryDatabase database, List<String> problems) {
    Map<String, Resolution[]> shared = new HashMap<>();
    for (String region : new TreeSet<>(knownRegions)) {
      Resolution[] bySource = new Resolution[Source.values().length];
      for (Source source : Source.values()) {
        bySource[source.ordinal()] = new Resolution(region, source);
      }
      shared.put(region, bySource);
    }
    Map<String, Resolution> headerRegions = new HashMap<>();
    shared.forEach((region, bySource) -> headerRegions.put(region, bySource[Source.HEADER.ordinal()]));

    CidrTable<Boolean> trusted = new CidrTable<>();
    for (String cidr : settings.trustedProxies()) {
      try {
        trusted.put(cidr, Boolean.TRUE);
      } catch (IllegalArgumentException e) {
        problems.add("trusted-proxies: " + e.getMessage());
      }
    }

    Resolution[] countryRegions = new Resolution[CODE_CHARS * CODE_CHARS];
    Resolution[] databaseRegions = new Resolution[CODE_CHARS * CODE_CHARS];
    settings.countries().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(entry -> {
      int index = codeIndex(entry.getKey());
      Resolution[] bySource = shared.get(entry.getValue());
      if (index < 0) {
        problems.add("countries: '" + entry.getKey()
            + "' (expected: a two-letter ISO 3166 country code like DE)");
      } else if (bySource == null) {
        problems.add("countries." + entry.getKey() + ": unknown region '" + entry.getValue()
            + "' (expected: one of " + new TreeSet<>(knownRegions) + ")");
      } else if (countryRegions[index] != null
          && !countryRegions[index].region().equals(entry.getValue())) {
        problems.add("countries." + entry.getKey() + ": the same country, in another case, maps to '"
            + countryRegions[index].region() + "' (expected: one region per country)");
      } else {
        countryRegions[index] = bySource[Source.COUNTRY.ordinal()];
        databaseRegions[index] = bySource[Source.DATABASE.ordinal()];
      }
    });

    CidrTable<Resolution> networks = new CidrTable<>();
    for (GeoSettings.Network network : settings.networks()) {
      Resolution[] bySource = shared.get(network.region());
      if (bySource == null) {
        problems.add("networks: " + network.cidr() + ": unknown region '" + network.region()
            + "' (expected: one of " + new TreeSet<>(knownRegions) + ")");
        continue;
      }
      try {
        Resolution previous = networks.put(network.cidr(), bySource[Source.NETWORK.ordinal()]);
        if (previous != null && !previous.region().equals(network.region())) {
          problems.add("networks: " + network.cidr() + " is listed for both '" + previous.region()
              + "' and '" + network.region() + "' (expected: each network once)");
        }
      } catch (IllegalArgumentException e) {
        problems.add("networks: " + e.getMessage());
      }
    }

    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("meridian.geo: " + problems.size() + " problem"
          + (problems.size() == 1 ? "" : "s") + ":\n  " + String.join("\n  ", problems));
    }
    return new ClientRegionResolver(emptyToNull(settings.clientRegionHeader()),
        emptyToNull(settings.countryHeader()), TrustedProxies.of(trusted, settings.trustedHops()), headerRegions,
        countryRegions, databaseRegions, networks, database);
  }

  /** The client's region, or null when no source decides it. */
  public String resolve(InetAddress peer, HeaderLookup headers) {
    Resolution resolution = resolveWithSource(peer, headers);
    return resolution == null ? null : resolution.region();
  }

  /** The client's region and the source that decided it (a shared instance), or null. */
  public Resolution resolveWithSource(InetAddress peer, HeaderLookup headers) {
    byte[] peerAddress = peer.getAddress();
    boolean peerTrusted = trustedProxies.hops() > 0 || trustedProxies.isTrusted(peerAddress);
    if (peerTrusted) {
      Resolution resolution = fromHeaders(headers);
      if (resolution != null) {
        return resolution;
      }
    }
    if (networks.isEmpty() && database == null) {
      return null;
    }
    byte[] client = peerTrusted ? forwardedClient(peerAddress, headers.get(X_FORWARDED_FOR))
        : peerAddress;
    if (client == null) {
      return null;
    }
    Resolution resolution = networks.lookup(client);
    if (resolution != null || database == null) {
      return resolution;
    }
    return fromDatabase(client == peerAddress ? peer : toInetAddress(client));
  }

  /** How often the country database failed a lookup (each such request got no database answer). */
  public long databaseErrors() {
    return databaseErrors.sum();
  }

  /** Closes the country database, if any. */
  @Override
  public void close() {
    if (database != null) {
      database.close();
    }
  }

  private Resolution fromHeaders(HeaderLookup headers) {
    if (clientRegionHeader != null) {
      String value = headers.get(clientRegionHeader);
      if (value != null) {
        Resolution resolution = headerRegions.get(value.strip());
        if (resolution != null) {
          return resolution;
        }
      }
    }
    if (countryHeader != null) {
      return country(headers.get(countryHeader), countryRegions);
    }
    return null;
  }

  private Resolution fromDatabase(InetAddress client) {
    try {
      return country(database.countryOf(client), databaseRegions);
    } catch (RuntimeException e) {
      databaseErrors.increment();
      return null;
    }
  }

  /**
   * The client address from {@code X-Forwarded-For} when the peer is a trusted proxy: the right-most
   * entry that is not trusted, else the left-most; the peer's without the header; null when an entry
   * that is not an address is reached first.
   */
  byte[] forwardedClient(byte[] peerAddress, String forwardedFor) {
    if (forwardedFor == null) {
      return peerAddress;
    }
    byte[] leftmostTrusted = null;
    int hopsLeft = trustedProxies.hops();
    int end = forwardedFor.length();
    while (end >= 0) {
      int comma = forwardedFor.lastIndexOf(',', end - 1);
      int start = comma + 1;
      if (!isBlank(forwardedFor, start, end)) {
        byte[] address = AddressLiterals.parseForwarded(forwardedFor, start, end);
        if (address == null) {
          return null;
        }
        if (hopsLeft > 0 ? --hopsLeft == 0 : !trustedProxies.isTrusted(address)) {
          return address;
        }
        leftmostTrusted = address;
      }
      end = comma;
    }
    return leftmostTrusted != null ? leftmostTrusted : peerAddress;
  }

  private static Resolution country(String code, Resolution[] table) {
    if (code == null) {
      return null;
    }
    int index = codeIndex(code);
    return index < 0 ? null : table[index];
  }

  /** The table slot of a two-character country code, surrounding blanks ignored, or -1. */
  private static int codeIndex(String code) {
    int from = 0;
    int to = code.length();
    while (from < to && code.charAt(from) == ' ') {
      from++;
    }
    while (to > from && code.charAt(to - 1) == ' ') {
      to--;
    }
    if (to - from != 2) {
      return -1;
    }
    int first = codeChar(code.charAt(from));
    int second = codeChar(code.charAt(from + 1));
    return first < 0 || second < 0 ? -1 : first * CODE_CHARS + second;
  }

  private static int codeChar(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'A' && c <= 'Z') {
      return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'z') {
      return c - 'a' + 10;
    }
    return -1;
  }

  private static boolean isBlank(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c != ' ' && c != '\t') {
        return false;
      }
    }
    return true;
  }

  private static InetAddress toInetAddress(byte[] address) {
    try {
      return InetAddress.getByAddress(address); // no DNS for raw bytes
    } catch (UnknownHostException e) {
      throw new AssertionError("4 or 16 bytes are always an address", e);
    }
  }

  private static String emptyToNull(String header) {
    return header == null || header.isBlank() ? null : header.strip();
  }
}
