package dev.meridian.proxy.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.config.DiscoverySettings;
import dev.meridian.proxy.config.HostPort;
import dev.meridian.proxy.testing.LeakDetection;
import dev.meridian.proxy.testing.TestDnsServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link DnsLookup} against a test name server on 127.0.0.1: answers, and what a lookup holds when it stops. */
class DnsLookupTest {
  private TestDnsServer dns;
  private EventLoopGroup group;
  private DnsLookup lookup;

  @BeforeEach
  void start() throws Exception {
    dns = TestDnsServer.start();
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    String[] server = dns.address().split(":");
    DiscoverySettings settings = new DiscoverySettings(List.of(new HostPort(server[0], Integer.parseInt(server[1]))),
        Duration.ofSeconds(1), Duration.ofSeconds(300), Duration.ofSeconds(30), Duration.ofSeconds(2),
        DiscoverySettings.Kubernetes.DEFAULTS);
    lookup = new DnsLookup(group.next(), NioDatagramChannel.class, settings);
  }

  @AfterEach
  void stop() {
    if (lookup != null) {
      lookup.loop().execute(lookup::close);
    }
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    dns.close();
  }

  @Test
  void anAnswerHasTheAddressesOfBothTypesAndTheirTtl() throws Exception {
    dns.addresses("both.test", 60, "127.0.0.1", "::1").addresses("six.test", 30, "::1");
    DnsLookup.Answer<InetAddress> answer = lookup.addresses("both.test").get(5, TimeUnit.SECONDS);
    assertThat(answer.values()).extracting(InetAddress::getHostAddress)
        .containsExactlyInAnyOrder("127.0.0.1", "0:0:0:0:0:0:0:1");
    assertThat(answer.ttlSeconds()).isEqualTo(60);
    DnsLookup.Answer<InetAddress> six = lookup.addresses("six.test").get(5, TimeUnit.SECONDS);
    assertThat(six.values()).extracting(InetAddress::getHostAddress).containsExactly("0:0:0:0:0:0:0:1");
    assertThat(six.ttlSeconds()).isEqualTo(30);
  }

  @Test
  void anSrvRecordWhoseTargetDoesNotDecodeIsSkippedAndTheOthersCount() throws Exception {
    // priority 10, weight 1, port 8080, then a label that claims 63 bytes and has one
    byte[] truncated = {0, 10, 0, 1, 0x1f, (byte) 0x90, 0x3f, 'x'};
    dns.srv("_http._tcp.app.test", 60, "10 1 8080 good.app.test").srvData("_http._tcp.app.test", 60, truncated);
    dns.srvData("_http._tcp.bad.test", 60, truncated);

    DnsLookup.Answer<DnsLookup.SrvRecord> answer = lookup.srv("_http._tcp.app.test").get(5, TimeUnit.SECONDS);
    assertThat(answer.values()).extracting(DnsLookup.SrvRecord::target).singleElement().asString()
        .startsWith("good.app.test");
    Future<DnsLookup.Answer<DnsLookup.SrvRecord>> none = lookup.srv("_http._tcp.bad.test");
    assertThat(none.await(5, TimeUnit.SECONDS)).as("the lookup ends (so the refresh goes on)").isTrue();
    assertThat(none.cause()).isInstanceOf(java.net.UnknownHostException.class).hasMessageContaining("no SRV records");
  }

  /**
   * The A answer arrives, the AAAA question is never answered, and the lookup stops (a reload drops
   * the source, the proxy shuts down): the A answer's records were read and released as they came,
   * not held for a combined answer that will never be made.
   */
  @Test
  void anAnswerWaitingForTheOtherTypeHoldsNoBufferWhenTheLookupStops() throws Exception {
    dns.addresses("app.test", 60, "127.0.0.1").unanswered("AAAA");
    dns.srv("_http._tcp.later.test", 60, "10 1 80 app.test");
    assertThat(stalledLookupIsDone()).isFalse();

    lookup.loop().execute(lookup::close);
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    lookup = null; // what it still references may be collected, and a leak in it reported
    LeakDetection.assertNoLeaks("a lookup stopped while waiting for its AAAA answer");
  }

  /** Starts a lookup whose AAAA question goes unanswered, waits until its A answer is in, and says if it is done. */
  private boolean stalledLookupIsDone() throws Exception {
    Future<DnsLookup.Answer<InetAddress>> stalled = lookup.addresses("app.test");
    await().atMost(Duration.ofSeconds(5)).until(() -> dns.questions("app.test", "AAAA") == 1
        && dns.questions("app.test", "A") == 1);
    // Asked after the A question was answered: its answer comes later on the same socket, so once it is
    // in, the A answer has been read too.
    assertThat(lookup.srv("_http._tcp.later.test").get(5, TimeUnit.SECONDS).values()).hasSize(1);
    return stalled.isDone();
  }
}
