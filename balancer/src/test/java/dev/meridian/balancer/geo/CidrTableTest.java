package dev.meridian.balancer.geo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTableTest {

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  @Test
  void longestIpv4PrefixWins() throws Exception {
    CidrTable<String> table = new CidrTable<>();
    table.put("10.0.0.0/8", "eight");
    table.put("10.1.0.0/16", "sixteen");
    table.put("10.1.2.0/24", "twenty-four");
    table.put("10.1.2.3", "host");

    assertThat(table.lookup(ip("10.200.0.1"))).isEqualTo("eight");
    assertThat(table.lookup(ip("10.1.200.1"))).isEqualTo("sixteen");
    assertThat(table.lookup(ip("10.1.2.200"))).isEqualTo("twenty-four");
    assertThat(table.lookup(ip("10.1.2.3"))).isEqualTo("host");
    assertThat(table.lookup(ip("11.0.0.1"))).isNull();
    assertThat(table.size()).isEqualTo(4);
  }

  @Test
  void orderOfInsertionDoesNotMatter() throws Exception {
    CidrTable<String> table = new CidrTable<>();
    table.put("10.1.2.0/24", "twenty-four");
    table.put("10.0.0.0/8", "eight");

    assertThat(table.lookup(ip("10.1.2.1"))).isEqualTo("twenty-four");
    assertThat(table.lookup(ip("10.1.3.1"))).isEqualTo("eight");
  }

  @Test
  void longestIpv6PrefixWins() throws Exception {
    CidrTable<String> table = new CidrTable<>();
    table.put("2001:db8::/32", "thirty-two");
    table.put("2001:db8:1::/48", "forty-eight");
    table.put("2001:db8:1:2::/64", "sixty-four");
    table.put("2001:db8:1:2::7/128", "host");

    assertThat(table.lookup(ip("2001:db8:ffff::1"))).isEqualTo("thirty-two");
    assertThat(table.lookup(ip("2001:db8:1:ffff::1"))).isEqualTo("forty-eight");
    assertThat(table.lookup(ip("2001:db8:1:2::8"))).isEqualTo("sixty-four");
    assertThat(table.lookup(ip("2001:db8:1:2::7"))).isEqualTo("host");
    assertThat(table.lookup(ip("2001:db9::1"))).isNull();
  }

  @Test
  void slashZeroMatchesEveryAddressOfItsFamilyOnly() throws Exception {
    CidrTable<String> table = new CidrTable<>();
    table.put("0.0.0.0/0", "any-v4");
    table.put("192.0.2.0/24", "doc");

    assertThat(table.lookup(ip("8.8.8.8"))).isEqualTo("any-v4");
    assertThat(table.lookup(ip("192.0.2.9"))).isEqualTo("doc");
    assertThat(table.lookup(ip("2001:db8::1"))).isNull();

    table.put("::/0", "any-v6");
    assertThat(table.lookup(ip("2001:db8::1"))).isEqualTo("any-v6");
    assertThat(table.lookup(ip("8.8.8.8"))).isEqualTo("any-v4");
  }

  @Test
  void bareAddressesAreHostRoutes() throws Exception {
    CidrTable<String> table = new CidrTable<>();
    table.put("192.0.2.1", "v4-host");
    table.put("2001:db8::1", "v6-host");

    assertThat(table.lookup(ip("192.0.2.1"))).isEqualTo("v4-host");
    assertThat(table.lookup(ip("192.0.2.2"))).isNull();
    assertThat(table.lookup(ip("2001:db8::1"))).isEqualTo("v6-host");
    assertThat(table.lookup(ip("2001:db8::2"))).isNull();
  }

  @Test
  void ipv4MappedIpv6AddressesMatchIpv4Networks() throws Exception {
    CidrTable<String> table = new CidrTable<>();
    table.put("192.0.2.0/24", "doc");
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) 192, 0, 2, 7};
    // Inet6Address.getByAddress keeps the mapped form (InetAddress.getByAddress would fold it).
    InetAddress mappedAddress = Inet6Address.getByAddress(null, mapped, -1);

    assertThat(mappedAddress).isInstanceOf(Inet6Address.class);
    assertThat(table.lookup(mappedAddress)).isEqualTo("doc");
    assertThat(table.lookup(mapped)).isEqualTo("doc");
  }

  @Test
  void ipv4MappedNetworksAreStoredAsIpv4() throws Exception {
    CidrTable<String> table = new CidrTable<>();
    table.put("::ffff:10.0.0.0/104", "ten");

    assertThat(table.lookup(ip("10.9.9.9"))).isEqualTo("ten");
    assertThat(table.lookup(ip("11.0.0.1"))).isNull();
  }

  @Test
  void putReplacesAnEqualNetwork() throws Exception {
    CidrTable<String> table = new CidrTable<>();
    assertThat(table.put("10.0.0.0/8", "old")).isNull();
    assertThat(table.put("10.0.0.0/8", "new")).isEqualTo("old");

    assertThat(table.size()).isEqualTo(1);
    assertThat(table.lookup(ip("10.0.0.1"))).isEqualTo("new");
  }

  @Test
  void growsPastItsInitialCapacity() throws Exception {
    CidrTable<Integer> table = new CidrTable<>();
    for (int i = 0; i < 256; i++) {
      table.put("2001:db8:" + Integer.toHexString(i) + "::/48", i);
      table.put("172.16." + i + ".0/24", i);
    }

    for (int i = 0; i < 256; i++) {
      assertThat(table.lookup(ip("2001:db8:" + Integer.toHexString(i) + "::5"))).isEqualTo(i);
      assertThat(table.lookup(ip("172.16." + i + ".5"))).isEqualTo(i);
    }
    assertThat(table.size()).isEqualTo(512);
  }

  @Test
  void lookupOfAddressBytesAllocatesNothing() throws Exception {
    CidrTable<String> table = new CidrTable<>();
    table.put("10.0.0.0/8", "eight");
    table.put("2001:db8::/32", "thirty-two");
    byte[] v4 = ip("10.1.2.3").getAddress();
    byte[] v6 = ip("2001:db8::1").getAddress();
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long threadId = Thread.currentThread().getId();

    int found = 0;
    long before = threads.getThreadAllocatedBytes(threadId);
    for (int i = 0; i < 100_000; i++) {
      found += table.lookup(v4) != null ? 1 : 0;
      found += table.lookup(v6) != null ? 1 : 0;
    }
    long allocated = threads.getThreadAllocatedBytes(threadId) - before;

    assertThat(found).isEqualTo(200_000);
    assertThat(allocated).as("bytes allocated by 200k lookups").isLessThan(10_000);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8",
      "10.0.0/8", "10.0.0.0/x", "2001:db8::/129", "2001:db8::/1000", "example.com/8", "localhost",
      "10.0.0.0 /8", "/8"})
  void rejectsWhatIsNotANetwork(String cidr) {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new CidrTable<String>().put(cidr, "x"))
        .withMessage("cidr: '" + cidr
            + "' (expected: an address/prefix like 10.0.0.0/8 or 2001:db8::/32)");
  }

  @ParameterizedTest
  @CsvSource({
      "10.1.2.3/8, 10.0.0.0/8",
      "192.0.2.1/24, 192.0.2.0/24",
      "2001:db8::1/32, 2001:db8::/32",
      "0.0.0.1/0, 0.0.0.0/0"})
  void rejectsBitsPastThePrefixAndSuggestsTheNetwork(String cidr, String network) {
    String prefix = network.substring(network.indexOf('/'));
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new CidrTable<String>().put(cidr, "x"))
        .withMessage("cidr: '" + cidr + "' has bits set past the " + prefix
            + " prefix (expected: " + network + ")");
  }
}
