package dev.meridian.balancer.geo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIOException;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads a real .mmdb file, written by {@link TinyMmdb}, through the MaxMind reader. */
class MaxMindCountryDatabaseTest {
  @TempDir
  static Path dir;
  static Path file;

  @BeforeAll
  static void writeDatabase() throws Exception {
    byte[] bytes = new TinyMmdb("GeoLite2-Country")
        .put("0.0.0.0/1", Map.of("continent", Map.of("code", "NA"),
            "country", Map.of("iso_code", "US", "names", Map.of("en", "United States"))))
        .put("81.0.0.0/8", Map.of("country", Map.of("iso_code", "DE"),
            "registered_country", Map.of("iso_code", "DE")))
        .put("81.2.3.0/24", Map.of("country", Map.of("iso_code", "FR")))
        // MaxMind knows only who registered this one (satellite or anycast networks).
        .put("100.64.0.0/10", Map.of("registered_country", Map.of("iso_code", "IN")))
        .put("2a00::/12", Map.of("country", Map.of("iso_code", "DE"), "is_in_european_union",
            "yes"))
        .put("2a01:4f8::/32", Map.of("country", Map.of("iso_code", "FI")))
        .put("2001:db8::/32", Map.of("continent", Map.of("code", "EU")))
        .toBytes();
    file = dir.resolve("tiny-country.mmdb");
    Files.write(file, bytes);
  }

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  @Test
  void readsCountryIsoCodesByLongestNetwork() throws Exception {
    try (MaxMindCountryDatabase database = MaxMindCountryDatabase.open(file)) {
      assertThat(database.databaseType()).isEqualTo("GeoLite2-Country");
      assertThat(database.countryOf(ip("8.8.8.8"))).isEqualTo("US");
      assertThat(database.countryOf(ip("81.9.9.9"))).isEqualTo("DE");
      assertThat(database.countryOf(ip("81.2.3.4"))).isEqualTo("FR");
      assertThat(database.countryOf(ip("81.2.4.4"))).isEqualTo("DE");
      assertThat(database.countryOf(ip("2a00:1450::1"))).isEqualTo("DE");
      assertThat(database.countryOf(ip("2a01:4f8:1:2::3"))).isEqualTo("FI");
    }
  }

  @Test
  void fallsBackToTheRegisteredCountry() throws Exception {
    try (MaxMindCountryDatabase database = MaxMindCountryDatabase.open(file)) {
      assertThat(database.countryOf(ip("100.64.1.1"))).isEqualTo("IN");
    }
  }

  @Test
  void answersNullWhereItKnowsNoCountry() throws Exception {
    try (MaxMindCountryDatabase database = MaxMindCountryDatabase.open(file)) {
      assertThat(database.countryOf(ip("200.1.1.1"))).isNull(); // no network at all
      assertThat(database.countryOf(ip("2001:db8::1"))).isNull(); // a record without a country
      assertThat(database.countryOf(ip("2c0f::1"))).isNull();
    }
  }

  @Test
  void ipv4MappedAddressesAreReadAsIpv4() throws Exception {
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 81, 2, 3, 4};
    try (MaxMindCountryDatabase database = MaxMindCountryDatabase.open(file)) {
      assertThat(database.countryOf(InetAddress.getByAddress(mapped))).isEqualTo("FR");
      assertThat(database.countryOf(Inet6Address.getByAddress(null, mapped, -1))).isEqualTo("FR");
    }
  }

  @Test
  void resolverUsesTheConfiguredDatabaseFile() throws Exception {
    GeoSettings settings = new GeoSettings(null, null, List.of(), Map.of("de", "eu-west",
        "US", "us-east"), List.of(new GeoSettings.Network("81.5.0.0/16", "us-east")),
        Optional.of(file));
    try (ClientRegionResolver resolver =
        ClientRegionResolver.create(settings, Set.of("eu-west", "us-east"))) {
      assertThat(resolver.resolveWithSource(ip("81.9.9.9"), HeaderLookup.NONE))
          .isEqualTo(new Resolution("eu-west", Resolution.Source.DATABASE));
      assertThat(resolver.resolveWithSource(ip("81.5.9.9"), HeaderLookup.NONE))
          .isEqualTo(new Resolution("us-east", Resolution.Source.NETWORK));
      assertThat(resolver.resolve(ip("81.2.3.4"), HeaderLookup.NONE)).isNull(); // FR: unmapped
      assertThat(resolver.resolve(ip("2a01:4f8::1"), HeaderLookup.NONE)).isNull(); // FI: unmapped
      assertThat(resolver.resolve(ip("2a00::1"), HeaderLookup.NONE)).isEqualTo("eu-west");
      assertThat(resolver.databaseErrors()).isZero();
    }
  }

  @Test
  void fileThatIsNotADatabaseFailsToOpen() throws Exception {
    Path garbage = dir.resolve("garbage.mmdb");
    Files.writeString(garbage, "not a MaxMind database");

    assertThatIOException().isThrownBy(() -> MaxMindCountryDatabase.open(garbage));
    assertThatIllegalArgumentException()
        .isThrownBy(() -> ClientRegionResolver.create(new GeoSettings(null, null, List.of(),
            Map.of(), List.of(), Optional.of(garbage)), Set.of("eu-west")))
        .withMessageContaining("database: '" + garbage + "' could not be read: ")
        .withMessageContaining("(expected: a MaxMind country database such as"
            + " GeoLite2-Country.mmdb)");
  }
}
