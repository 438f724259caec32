package dev.meridian.balancer.geo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressLiteralsTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.0.10",
      "::", "::1", "1::", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "fe80::1:2:3:4",
      "1:2:3:4:5:6:7:8", "1:2:3:4:5:6::8", "1::8", "::ffff:192.0.2.1", "64:ff9b::192.0.2.1",
      "1:2:3:4:5:6:192.0.2.1", "::192.0.2.1"})
  void parsesWhatTheJdkParses(String literal) throws Exception {
    byte[] expected = InetAddress.getByName(literal).getAddress();
    byte[] parsed = AddressLiterals.parse(literal);
    if (expected.length == 4 && parsed.length == 16) {
      // The JDK folds ::ffff:a.b.c.d to IPv4; the parser keeps 16 bytes and lets callers fold.
      assertThat(AddressLiterals.isIpv4Mapped(parsed)).isTrue();
      assertThat(java.util.Arrays.copyOfRange(parsed, 12, 16)).isEqualTo(expected);
    } else {
      assertThat(parsed).isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", "example.com", "localhost", "unknown", "_hidden", "1.2.3", "1.2.3.4.5", "256.0.0.1",
      "01.2.3.4", "1..2.3", "1.2.3.4 ", "-1.2.3.4", ":", ":::", "1:::2", "1::2::3", ":1::2", "1::2:",
      "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::", "g::1", "::1.2.3",
      "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5", "fe80::1%eth0"})
  void rejectsWhatIsNotALiteral(String text) {
    assertThat(AddressLiterals.parse(text)).isNull();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "192.0.2.1|192.0.2.1",
      "'  192.0.2.1  '|192.0.2.1",
      "192.0.2.1:4711|192.0.2.1",
      "[2001:db8::1]:4711|2001:db8::1",
      "[2001:db8::1]|2001:db8::1",
      "2001:db8::1|2001:db8::1"})
  void parsesForwardedForEntries(String entry, String address) throws Exception {
    assertThat(AddressLiterals.parseForwarded(entry, 0, entry.length()))
        .isEqualTo(InetAddress.getByName(address).getAddress());
  }

  @ParameterizedTest
  @ValueSource(strings = {"unknown", "_proxy1", "192.0.2.1:", "192.0.2.1:http", "[2001:db8::1",
      "[2001:db8::1]x", "   "})
  void rejectsForwardedForEntriesThatAreNotAddresses(String entry) {
    assertThat(AddressLiterals.parseForwarded(entry, 0, entry.length())).isNull();
  }

  @ParameterizedTest
  @CsvSource({
      "192.0.2.1, 192.0.2.1",
      "::, ::",
      "::1, ::1",
      "2001:db8::, 2001:db8::",
      "2001:db8:0:1:0:0:0:1, 2001:db8:0:1::1",
      "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
      "2001:0:0:1:0:0:1:1, 2001::1:0:0:1:1",
      "1:0:2:3:4:5:6:7, 1:0:2:3:4:5:6:7"})
  void formatsCompactly(String literal, String formatted) {
    assertThat(AddressLiterals.format(AddressLiterals.parse(literal))).isEqualTo(formatted);
  }
}
