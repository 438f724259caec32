package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client limits of {@code meridian.limits} over real sockets: a listener full of connections
 * stops accepting (the next client waits, and is served when one closes), one address may hold only
 * so many connections (another address is not affected), and an address over its request rate is
 * answered 429 with Retry-After, over HTTP/1.1 and per HTTP/2 stream.
 */
class ConnectionAndRateLimitsTest {
  private static final String GET = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
  private final List<RawHttpClient> clients = new ArrayList<>();
  private TestBackend backend;
  private ForwardingProxy proxy;

  @BeforeEach
  void startBackend() {
    backend = TestBackend.start(TestBackend.ok("fine"));
  }

  @AfterEach
  void stop() throws Exception {
    for (RawHttpClient c : clients) {
      c.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    backend.close();
  }

  private void start(String limits) throws Exception {
    proxy = ForwardingProxy.to(backend.address()).set("limits { " + limits + " }").start();
  }

  private RawHttpClient client(String from) throws Exception {
    RawHttpClient c = RawHttpClient.connect(InetAddress.getByName(from), proxy.address(), Duration.ofSeconds(10));
    clients.add(c);
    return c;
  }

  private double count(String name, String... tags) {
    Counter c = proxy.metrics().registry().find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void aFullListenerStopsAcceptingAndServesTheNextClientWhenOneCloses() throws Exception {
    start("max-connections = 3");
    for (int i = 0; i < 3; i++) {
      assertThat(client("127.0.0.1").send(GET).readResponse().status()).isEqualTo(200);
    }
    Gauge open = proxy.metrics().registry().find("meridian.listener.connections").tag("listener", "web").gauge();
    assertThat(open.value()).isEqualTo(3);

    RawHttpClient fourth = client("127.0.0.1"); // the kernel completes the handshake; Meridian does not accept
    fourth.send(GET);
    fourth.socket().setSoTimeout(700);
    org.assertj.core.api.Assertions.assertThatThrownBy(fourth::readResponse)
        .as("no answer while the listener is full").isInstanceOf(SocketTimeoutException.class);
    assertThat(count("meridian.listener.accept.paused", "listener", "web")).isEqualTo(1);

    clients.get(0).close();
    fourth.socket().setSoTimeout(10_000);
    assertThat(fourth.readResponse().status()).as("served once a connection closed").isEqualTo(200);
    assertThat(open.value()).isEqualTo(3);
  }

  @Test
  void aListenersOwnLimitOverridesTheProcessWideOne() throws Exception {
    proxy = ForwardingProxy.to(backend.address())
        .set("listeners = [ { name = \"web\", address = \"127.0.0.1:0\", max-connections = 1 } ]")
        .set("limits.max-connections = 100").start();
    assertThat(client("127.0.0.1").send(GET).readResponse().status()).isEqualTo(200);
    RawHttpClient second = client("127.0.0.1");
    second.send(GET);
    second.socket().setSoTimeout(700);
    org.assertj.core.api.Assertions.assertThatThrownBy(second::readResponse)
        .as("the listener holds one connection").isInstanceOf(SocketTimeoutException.class);
    clients.get(0).close();
    second.socket().setSoTimeout(10_000);
    assertThat(second.readResponse().status()).isEqualTo(200);
  }

  @Test
  void anAddressHoldingItsShareOfConnectionsHasTheNextClosedAndOthersAreNotAffected() throws Exception {
    start("max-connections-per-client = 2");
    RawHttpClient first = client("127.0.0.1");
    assertThat(first.send(GET).readResponse().status()).isEqualTo(200);
    assertThat(client("127.0.0.1").send(GET).readResponse().status()).isEqualTo(200);

    RawHttpClient third = client("127.0.0.1");
    assertThat(third.isClosedByPeer(Duration.ofSeconds(5))).as("the third from one address").isTrue();
    assertThat(count("meridian.listener.connections.refused", "listener", "web", "reason", "per-client"))
        .isEqualTo(1);
    assertThat(client("127.0.0.2").send(GET).readResponse().status()).as("another address").isEqualTo(200);

    first.close();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(client("127.0.0.1").send(GET).readResponse().status()).as("a slot came free").isEqualTo(200));
  }

  @Test
  void anAddressOverItsRequestRateIsAnswered429WithRetryAfter() throws Exception {
    start("client-request-rate = 0.1, client-request-burst = 3"); // three at once, then one per 10 s
    RawHttpClient c = client("127.0.0.1");
    for (int i = 0; i < 3; i++) {
      assertThat(c.send(GET).readResponse().status()).as("request " + i + " of the burst").isEqualTo(200);
    }
    RawHttpClient.RawResponse limited = c.send(GET).readResponse();
    assertThat(limited.status()).isEqualTo(429);
    assertThat(Long.parseLong(limited.header("Retry-After"))).isBetween(1L, 10L);
    assertThat(limited.header("X-Request-Id")).isNotBlank();
    assertThat(c.send(GET).readResponse().status()).as("the connection stays usable").isEqualTo(429);
    assertThat(count("meridian.requests.limited", "reason", "client-rate")).isEqualTo(2);
    assertThat(backend.requests()).hasSize(3);

    assertThat(client("127.0.0.2").send(GET).readResponse().status()).as("another address").isEqualTo(200);
  }

  @Test
  void eachHttp2StreamCountsAsARequest() throws Exception {
    start("client-request-rate = 0.1, client-request-burst = 2");
    try (RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      for (int stream : new int[] {1, 3, 5}) {
        h2.get(stream, "/s" + stream);
      }
      h2.readUntil(c -> c.ended(1) && c.ended(3) && c.ended(5));
      assertThat(List.of(h2.status(1), h2.status(3), h2.status(5))).containsExactlyInAnyOrder("200", "200", "429");
      assertThat(h2.goAwayError()).isNull();
    }
  }
}
