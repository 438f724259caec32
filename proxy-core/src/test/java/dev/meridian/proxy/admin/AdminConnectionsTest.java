package dev.meridian.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The admin port's bounds per address and per IPv6 /64, and what a closed connection gives back. */
class AdminConnectionsTest {
  /** A channel whose peer is {@code address}. */
  private static Channel from(String address) throws Exception {
    InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName(address), 40000);
    return new EmbeddedChannel() {
      @Override
      protected SocketAddress remoteAddress0() {
        return peer;
      }
    };
  }

  @Test
  void anIpv6NetworkIsItsSlash64AndLoopbackLinkLocalAndIpv4HaveNone() throws Exception {
    assertThat(AdminConnections.networkOf(InetAddress.getByName("2001:db8:1:2:aaaa::1")))
        .isEqualTo(AdminConnections.networkOf(InetAddress.getByName("2001:db8:1:2:bbbb:cccc:dddd:eeee")))
        .isEqualTo(InetAddress.getByName("2001:db8:1:2::"))
        .isNotEqualTo(AdminConnections.networkOf(InetAddress.getByName("2001:db8:1:3::1")));
    assertThat(AdminConnections.networkOf(InetAddress.getByName("::1"))).isNull();
    assertThat(AdminConnections.networkOf(InetAddress.getByName("fe80::1"))).isNull();
    assertThat(AdminConnections.networkOf(InetAddress.getByName("192.0.2.7"))).isNull();
  }

  @Test
  void oneAddressHoldsSixteenAndOneSlash64SixtyFourAndAClosedOneGivesItsPlaceBack() throws Exception {
    AdminConnections bounds = new AdminConnections(Duration.ofSeconds(60));
    List<Channel> held = new ArrayList<>();
    for (int i = 0; i < AdminConnections.MAX_PER_ADDRESS; i++) {
      Channel c = from("2001:db8::7");
      assertThat(bounds.admit(c)).isTrue();
      held.add(c);
    }
    assertThat(bounds.admit(from("2001:db8::7"))).as("the address's 17th").isFalse();
    for (int i = 0; i < AdminConnections.MAX_PER_NETWORK - AdminConnections.MAX_PER_ADDRESS; i++) {
      Channel c = from("2001:db8::" + Integer.toHexString(0x100 + i));
      assertThat(bounds.admit(c)).isTrue();
      held.add(c);
    }
    assertThat(bounds.admit(from("2001:db8::ffff"))).as("the /64's 65th").isFalse();
    assertThat(bounds.admit(from("2001:db8:0:1::7"))).as("another /64").isTrue();
    held.get(0).close();
    assertThat(bounds.admit(from("2001:db8::7"))).as("a place given back").isTrue();
  }
}
