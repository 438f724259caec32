package dev.meridian.balancer.geo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.meridian.balancer.geo.Resolution.Source;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ClientRegionResolverTest {
  private static final Set<String> REGIONS = Set.of("eu-west", "us-east", "ap-south");
  private static final String PROXY = "10.0.0.5"; // in the trusted 10.0.0.0/24
  private static final String STRANGER = "198.51.100.7"; // in no table

  private static final GeoSettings SETTINGS = new GeoSettings(
      "X-Client-Region",
      "CF-IPCountry",
      List.of("10.0.0.0/24", "fd00::/8"),
      Map.of("DE", "eu-west", "us", "us-east", "In", "ap-south"),
      List.of(
          new GeoSettings.Network("203.0.113.0/24", "ap-south"),
          new GeoSettings.Network("203.0.113.128/25", "eu-west"),
          new GeoSettings.Network("2001:db8::/32", "us-east"),
          new GeoSettings.Network("2001:db8:e0::/48", "eu-west")),
      Optional.empty());

  private final ClientRegionResolver resolver = ClientRegionResolver.create(SETTINGS, REGIONS);

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  /** Headers as a proxy would hand them over: names matched case-insensitively. */
  private static HeaderLookup headers(String... namesAndValues) {
    Map<String, String> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (int i = 0; i < namesAndValues.length; i += 2) {
      map.put(namesAndValues[i], namesAndValues[i + 1]);
    }
    return map::get;
  }

  @Test
  void regionHeaderFromATrustedProxyDecides() throws Exception {
    assertThat(resolver.resolveWithSource(ip(PROXY), headers("X-Client-Region", "ap-south")))
        .isEqualTo(new Resolution("ap-south", Source.HEADER));
    assertThat(resolver.resolve(ip("fd00::1"), headers("x-client-region", " eu-west ")))
        .isEqualTo("eu-west");
  }

  @Test
  void regionHeaderFromAnUntrustedPeerIsIgnored() throws Exception {
    assertThat(resolver.resolve(ip(STRANGER), headers("X-Client-Region", "ap-south"))).isNull();
    // A client inside a configured network cannot talk its way out of it either.
    assertThat(resolver.resolveWithSource(ip("203.0.113.9"), headers("X-Client-Region", "us-east")))
        .isEqualTo(new Resolution("ap-south", Source.NETWORK));
  }

  @ParameterizedTest
  @ValueSource(strings = {"mars-north", "EU-WEST", "", "eu-west,us-east"})
  void unknownRegionInTheHeaderIsIgnored(String value) throws Exception {
    assertThat(resolver.resolve(ip(PROXY), headers("X-Client-Region", value))).isNull();
    // ... and the next source gets its turn.
    assertThat(resolver.resolveWithSource(ip(PROXY), headers("X-Client-Region", value,
        "CF-IPCountry", "DE"))).isEqualTo(new Resolution("eu-west", Source.COUNTRY));
  }

  @ParameterizedTest
  @CsvSource({"DE, eu-west", "de, eu-west", "US, us-east", "in, ap-south", "' IN ', ap-south"})
  void countryHeaderIsMappedThroughTheCountriesTableInAnyCase(String code, String region)
      throws Exception {
    assertThat(resolver.resolveWithSource(ip(PROXY), headers("CF-IPCountry", code)))
        .isEqualTo(new Resolution(region, Source.COUNTRY));
  }

  @ParameterizedTest
  @ValueSource(strings = {"FR", "XX", "T1", "DEU", "D", "", "D-"})
  void countryOutsideTheTableDecidesNothing(String code) throws Exception {
    assertThat(resolver.resolve(ip(PROXY), headers("CF-IPCountry", code))).isNull();
  }

  @Test
  void countryHeaderFromAnUntrustedPeerIsIgnored() throws Exception {
    assertThat(resolver.resolve(ip(STRANGER), headers("CF-IPCountry", "DE"))).isNull();
  }

  @ParameterizedTest
  @CsvSource({
      "203.0.113.1, ap-south",
      "203.0.113.127, ap-south",
      "203.0.113.128, eu-west",
      "203.0.113.255, eu-west",
      "2001:db8:1::1, us-east",
      "2001:db8:e0:5::1, eu-west",
      "::ffff:203.0.113.200, eu-west"})
  void clientNetworkDecidesByLongestPrefix(String client, String region) throws Exception {
    assertThat(resolver.resolveWithSource(ip(client), HeaderLookup.NONE))
        .isEqualTo(new Resolution(region, Source.NETWORK));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // right-most untrusted entry wins; trusted hops on the right are skipped
      "198.51.100.1, 203.0.113.200|eu-west",
      "203.0.113.200, 10.0.0.7, 10.0.0.8|eu-west",
      "203.0.113.1,203.0.113.200|eu-west",
      // a client cannot choose its region by prepending entries
      "203.0.113.1, 2001:db8:1::1|us-east",
      // ports and IPv6 brackets, blank entries
      "[2001:db8:e0::9]:4711, 10.0.0.9|eu-west",
      "203.0.113.200:5555|eu-west",
      " , 203.0.113.1 ,|ap-south",
      // every entry trusted: the left-most is the client
      "10.0.0.1, 10.0.0.2|",
      // an entry that is not an address before any untrusted one: client unknown
      "203.0.113.1, unknown|",
      // ... but one further left than the client does not matter
      "unknown, 203.0.113.1|ap-south"})
  void clientBehindTrustedProxiesIsTheRightMostUntrustedForwardedAddress(String forwardedFor,
      String region) throws Exception {
    assertThat(resolver.resolve(ip(PROXY), headers("X-Forwarded-For", forwardedFor)))
        .isEqualTo(region);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // two hops (a CDN, then a load balancer): the second entry from the right, whatever it is
      // (10.0.0.7, in the trusted networks but in no region table, is the client here)
      "198.51.100.1, 203.0.113.200, 10.0.0.7|eu-west",
      "203.0.113.1, 10.0.0.7, 203.0.113.200|",
      // a client cannot choose its region by prepending entries
      "203.0.113.200, 203.0.113.1, 198.51.100.9|ap-south",
      // fewer entries than hops: the left-most
      "203.0.113.200|eu-west",
      // not an address where the client should be: unknown
      "203.0.113.1, unknown, 10.0.0.7|"})
  void withTrustedHopsEveryPeerIsBelievedAndTheClientIsThatManyEntriesFromTheRight(String forwardedFor,
      String region) throws Exception {
    ClientRegionResolver twoHops = ClientRegionResolver.create(new GeoSettings("X-Client-Region", null,
        List.of(), Map.of(), SETTINGS.networks(), Optional.empty(), 2), REGIONS);
    assertThat(twoHops.resolve(ip(STRANGER), headers("X-Forwarded-For", forwardedFor))).isEqualTo(region);
    assertThat(twoHops.resolve(ip(STRANGER), headers("X-Client-Region", "us-east")))
        .as("the region header of any peer").isEqualTo("us-east");
  }

  @Test
  void forwardedForFromAnUntrustedPeerIsIgnored() throws Exception {
    assertThat(resolver.resolve(ip(STRANGER), headers("X-Forwarded-For", "203.0.113.200")))
        .isNull();
    assertThat(resolver.resolve(ip("203.0.113.1"), headers("X-Forwarded-For", "203.0.113.200")))
        .isEqualTo("ap-south");
  }

  @Test
  void trustedProxyWithoutForwardedForIsLookedUpItself() throws Exception {
    ClientRegionResolver proxiesInEurope = ClientRegionResolver.create(
        new GeoSettings(null, null, List.of("10.0.0.0/24"), Map.of(),
            List.of(new GeoSettings.Network("10.0.0.0/8", "eu-west")), Optional.empty()),
        REGIONS);

    assertThat(proxiesInEurope.resolve(ip(PROXY), HeaderLookup.NONE)).isEqualTo("eu-west");
  }

  @Test
  void sourcesAreTriedInOrderHeaderCountryNetworkDatabase() throws Exception {
    List<InetAddress> asked = new ArrayList<>();
    CountryDatabase database = address -> {
      asked.add(address);
      return "IN";
    };
    ClientRegionResolver withDatabase = ClientRegionResolver.create(SETTINGS, REGIONS, database);
    InetAddress proxy = ip(PROXY);

    assertThat(withDatabase.resolveWithSource(proxy, headers("X-Client-Region", "us-east",
        "CF-IPCountry", "DE", "X-Forwarded-For", "203.0.113.1")))
        .isEqualTo(new Resolution("us-east", Source.HEADER));
    assertThat(withDatabase.resolveWithSource(proxy, headers(
        "CF-IPCountry", "DE", "X-Forwarded-For", "203.0.113.1")))
        .isEqualTo(new Resolution("eu-west", Source.COUNTRY));
    assertThat(withDatabase.resolveWithSource(proxy, headers("X-Forwarded-For", "203.0.113.1")))
        .isEqualTo(new Resolution("ap-south", Source.NETWORK));
    assertThat(asked).isEmpty();

    assertThat(withDatabase.resolveWithSource(proxy, headers("X-Forwarded-For", STRANGER)))
        .isEqualTo(new Resolution("ap-south", Source.DATABASE));
    assertThat(asked).containsExactly(ip(STRANGER));
  }

  @Test
  void databaseCountryIsMappedThroughTheCountriesTable() throws Exception {
    Map<String, String> countryOf = Map.of("192.0.2.1", "de", "192.0.2.2", "FR", "2001:db9::1", "US");
    ClientRegionResolver withDatabase = ClientRegionResolver.create(SETTINGS, REGIONS,
        address -> countryOf.get(address.getHostAddress().replace(":0:0:0:0:0:", "::")
            .replace("2001:db9:0:0:0:0:0:1", "2001:db9::1")));

    assertThat(withDatabase.resolveWithSource(ip("192.0.2.1"), HeaderLookup.NONE))
        .isEqualTo(new Resolution("eu-west", Source.DATABASE));
    assertThat(withDatabase.resolve(ip("192.0.2.2"), HeaderLookup.NONE)).isNull();
    assertThat(withDatabase.resolve(ip("192.0.2.3"), HeaderLookup.NONE)).isNull();
    assertThat(withDatabase.resolve(ip("2001:db9::1"), HeaderLookup.NONE)).isEqualTo("us-east");
  }

  @Test
  void failingDatabaseDecidesNothingAndIsCounted() throws Exception {
    ClientRegionResolver withDatabase = ClientRegionResolver.create(SETTINGS, REGIONS, address -> {
      throw new IllegalStateException("damaged");
    });

    assertThat(withDatabase.resolve(ip(STRANGER), HeaderLookup.NONE)).isNull();
    assertThat(withDatabase.databaseErrors()).isEqualTo(1);
  }

  @Test
  void resolutionsAreSharedInstances() throws Exception {
    HeaderLookup headers = headers("X-Client-Region", "eu-west");
    assertThat(resolver.resolveWithSource(ip(PROXY), headers))
        .isSameAs(resolver.resolveWithSource(ip(PROXY), headers));
    assertThat(resolver.resolveWithSource(ip("203.0.113.1"), HeaderLookup.NONE))
        .isSameAs(resolver.resolveWithSource(ip("203.0.113.2"), HeaderLookup.NONE));
    assertThat(Source.DATABASE.label()).isEqualTo("database");
  }

  @Test
  void noSettingsResolveNothing() throws Exception {
    ClientRegionResolver none = ClientRegionResolver.create(GeoSettings.NONE, REGIONS);

    assertThat(none.resolve(ip(PROXY), headers("X-Client-Region", "eu-west", "CF-IPCountry", "DE",
        "X-Forwarded-For", "203.0.113.1"))).isNull();
  }

  @Test
  void everyProblemInTheSettingsIsReportedAtOnce() {
    GeoSettings bad = new GeoSettings("X-Client-Region", "CF-IPCountry",
        List.of("10.0.0.0/24", "10.0.0.0/33"),
        Map.of("DE", "eu-west", "Germany", "eu-west", "FR", "eu-central"),
        List.of(new GeoSettings.Network("203.0.113.0/24", "ap-south"),
            new GeoSettings.Network("203.0.113.0/24", "us-east"),
            new GeoSettings.Network("2001:db8::/32", "atlantis"),
            new GeoSettings.Network("2001:db8::1/32", "us-east")),
        Optional.of(Path.of("/nonexistent/GeoLite2-Country.mmdb")));

    assertThatIllegalArgumentException()
        .isThrownBy(() -> ClientRegionResolver.create(bad, REGIONS))
        .withMessageStartingWith("meridian.geo: 7 problems:")
        .withMessageContaining("database: '/nonexistent/GeoLite2-Country.mmdb' could not be read")
        .withMessageContaining("trusted-proxies: cidr: '10.0.0.0/33' (expected: an address/prefix"
            + " like 10.0.0.0/8 or 2001:db8::/32)")
        .withMessageContaining("countries: 'Germany' (expected: a two-letter ISO 3166 country code"
            + " like DE)")
        .withMessageContaining("countries.FR: unknown region 'eu-central' (expected: one of"
            + " [ap-south, eu-west, us-east])")
        .withMessageContaining("networks: 203.0.113.0/24 is listed for both 'ap-south' and"
            + " 'us-east'")
        .withMessageContaining("networks: 2001:db8::/32: unknown region 'atlantis'")
        .withMessageContaining("networks: cidr: '2001:db8::1/32' has bits set past the /32 prefix"
            + " (expected: 2001:db8::/32)");
  }
}
