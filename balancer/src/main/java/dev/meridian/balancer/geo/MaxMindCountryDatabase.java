package dev.meridian.balancer.geo;

import com.maxmind.db.CHMCache;
import com.maxmind.db.MaxMindDbConstructor;
import com.maxmind.db.MaxMindDbParameter;
import com.maxmind.db.Reader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A {@link CountryDatabase} read from a MaxMind DB file: GeoLite2-Country, GeoIP2-Country, the City
 * editions, or any database whose records carry {@code country.iso_code} (falling back to
 * {@code registered_country.iso_code}, as for addresses MaxMind only knows the registrant of).
 *
 * <p>The file is memory-mapped and decoded records are cached (a few hundred countries), so a lookup
 * is a walk of the search tree. The user supplies the file; Meridian ships none.
 */
public final class MaxMindCountryDatabase implements CountryDatabase {
  private final Path file;
  private final Reader reader;
  private final boolean ipv4Only;

  private MaxMindCountryDatabase(Path file, Reader reader) {
    this.file = file;
    this.reader = reader;
    this.ipv4Only = reader.getMetadata().ipVersion() == 4;
  }

  /**
   * Opens {@code file}.
   *
   * @throws IOException when it cannot be read or is not a MaxMind DB
   */
  public static MaxMindCountryDatabase open(Path file) throws IOException {
    return new MaxMindCountryDatabase(file, new Reader(file.toFile(), new CHMCache()));
  }

  /**
   * The ISO code of {@code address}'s country, or null when the database has none (or holds only
   * IPv4 and this is an IPv6 address).
   *
   * @throws UncheckedIOException when the database is damaged or closed
   */
  @Override
  public String countryOf(InetAddress address) {
    if (address instanceof Inet6Address) {
      byte[] bytes = address.getAddress();
      if (AddressLiterals.isIpv4Mapped(bytes)) {
        address = ipv4(bytes);
      }
    }
    if (ipv4Only && address instanceof Inet6Address) {
      return null;
    }
    CountryRecord record;
    try {
      record = reader.get(address, CountryRecord.class);
    } catch (IOException e) {
      throw new UncheckedIOException("country database " + file + ": " + e.getMessage(), e);
    }
    if (record == null) {
      return null;
    }
    if (record.country() != null && record.country().isoCode() != null) {
      return record.country().isoCode();
    }
    return record.registeredCountry() == null ? null : record.registeredCountry().isoCode();
  }

  /** The IPv4 address an IPv4-mapped IPv6 address stands for. */
  private static InetAddress ipv4(byte[] mapped) {
    try {
      return InetAddress.getByAddress(Arrays.copyOfRange(mapped, 12, 16)); // raw bytes: no DNS
    } catch (UnknownHostException e) {
      throw new AssertionError("4 bytes are always an address", e);
    }
  }

  /** The {@code database_type} from the file's metadata, like {@code GeoLite2-Country}. */
  public String databaseType() {
    return reader.getMetadata().databaseType();
  }

  @Override
  public void close() {
    try {
      reader.close();
    } catch (IOException e) {
      throw new UncheckedIOException("country database " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "MaxMindCountryDatabase(" + file + ", " + databaseType() + ")";
  }

  /**
   * The part of a database record this class reads. Public only because the MaxMind decoder
   * constructs it reflectively; not part of Meridian's API.
   */
  public record CountryRecord(Country country, Country registeredCountry) {
    @MaxMindDbConstructor
    public CountryRecord(
        @MaxMindDbParameter(name = "country") Country country,
        @MaxMindDbParameter(name = "registered_country") Country registeredCountry) {
      this.country = country;
      this.registeredCountry = registeredCountry;
    }
  }

  /** A record's country: only its ISO code. Public for the decoder, as {@link CountryRecord}. */
  public record Country(String isoCode) {
    @MaxMindDbConstructor
    public Country(@MaxMindDbParameter(name = "iso_code") String isoCode) {
      this.isoCode = isoCode;
    }
  }
}
