package dev.meridian.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Which peer an admin connection counts toward for the per-address bound. */
class AdminConnectionsTest {
  @Test
  void anIpv6AddressCountsTowardItsSlash64AndAnIpv4AddressTowardItself() throws Exception {
    InetAddress a = AdminConnections.peerOf(InetAddress.getByName("2001:db8:1:2:aaaa::1"));
    InetAddress b = AdminConnections.peerOf(InetAddress.getByName("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
    InetAddress other = AdminConnections.peerOf(InetAddress.getByName("2001:db8:1:3::1"));
    assertThat(a).isEqualTo(b).isEqualTo(InetAddress.getByName("2001:db8:1:2::"));
    assertThat(other).isNotEqualTo(a);
    assertThat(AdminConnections.peerOf(InetAddress.getByName("192.0.2.7")))
        .isEqualTo(InetAddress.getByName("192.0.2.7"))
        .isNotEqualTo(AdminConnections.peerOf(InetAddress.getByName("192.0.2.8")));
    assertThat(AdminConnections.peerOf(InetAddress.getByName("::1"))).isEqualTo(InetAddress.getByName("::"));
  }
}
