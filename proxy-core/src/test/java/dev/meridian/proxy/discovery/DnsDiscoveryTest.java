package dev.meridian.proxy.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.balancer.Backend;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestDnsServer;
import io.micrometer.core.instrument.Counter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DNS discovery end to end: a test DNS server on 127.0.0.1 whose records the tests change while
 * Meridian runs, backends on 127.0.0.1 and ::1, and real HTTP/1.1 requests through the proxy.
 */
class DnsDiscoveryTest {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private TestDnsServer dns;
  private TestBackend v4;
  private TestBackend v6;
  private MeridianInstance meridian;

  @BeforeEach
  void startDnsAndBackends() throws Exception {
    dns = TestDnsServer.start();
    v4 = TestBackend.start(TestBackend.ok("v4"));
    v6 = TestBackend.start(TestBackend.ok("v6"), "::1", v4.port());
  }

  @AfterEach
  void stopAll() {
    if (meridian != null) {
      meridian.close();
    }
    v4.close();
    v6.close();
    dns.close();
  }

  private void startMeridian(String entries, String discovery) throws Exception {
    String hocon = """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:0" } ]
          admin { enabled = false }
          server { event-loop-threads = 1 }
          timeouts { connect = 1s, response-headers = 5s, upstream-idle = 60s }
          discovery { dns { servers = [ "%s" ], min-ttl = 100ms, max-ttl = 300s, query-timeout = 500ms }
%s }
          backend-groups { app { backends = [ %s ] } }
          routes = [ { path-prefix = "/", backend-group = "app" } ]
        }
        """.formatted(dns.address(), discovery, entries);
    meridian = new MeridianInstance(SettingsLoader.parse(hocon, "DnsDiscoveryTest")).start();
  }

  private String get() throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + meridian.listenerAddresses().get(0).getPort() + "/");
    return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private List<String> backendIds() {
    return meridian.proxy().groups().get("app").backends().stream().map(Backend::id).sorted().toList();
  }

  private double failures() {
    Counter c = meridian.proxy().metrics().registry().find("meridian.discovery.failures").tag("group", "app").counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void everyAddressOfTheNameIsABackendAndGetsTraffic() throws Exception {
    dns.addresses("app.test", 60, "127.0.0.1", "::1");
    startMeridian("{ dns = \"app.test:" + v4.port() + "\", region = \"eu\", weight = 2 }", "");

    assertThat(backendIds()).containsExactly("127.0.0.1:" + v4.port(), "[::1]:" + v4.port());
    assertThat(meridian.proxy().groups().get("app").backends())
        .allSatisfy(b -> assertThat(b.region() + "/" + b.weight()).isEqualTo("eu/2"));
    Map<String, Long> answers = new java.util.HashMap<>();
    for (int i = 0; i < 10; i++) {
      answers.merge(get(), 1L, Long::sum);
    }
    assertThat(answers).containsOnlyKeys("v4", "v6");
  }

  @Test
  void addedAndRemovedAddressesKeepTheConnectionsOfTheBackendThatStays() throws Exception {
    dns.addresses("app.test", 1, "127.0.0.1");
    startMeridian("{ dns = \"app.test:" + v4.port() + "\" }", "");
    assertThat(get()).isEqualTo("v4");
    assertThat(get()).isEqualTo("v4");
    assertThat(v4.connectionCount()).isEqualTo(1);

    dns.addresses("app.test", 1, "127.0.0.1", "::1");
    await().atMost(Duration.ofSeconds(10)).until(() -> backendIds().size() == 2);
    List<String> answers = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      answers.add(get());
    }
    assertThat(answers).contains("v4", "v6");
    assertThat(v4.connectionCount()).as("the pooled connection to the backend that stayed").isEqualTo(1);
    assertThat(v6.connectionCount()).isEqualTo(1);

    dns.addresses("app.test", 1, "::1");
    await().atMost(Duration.ofSeconds(10)).until(() -> backendIds().equals(List.of("[::1]:" + v4.port())));
    for (int i = 0; i < 4; i++) {
      assertThat(get()).isEqualTo("v6");
    }
    assertThat(v6.connectionCount()).as("the pooled connection to the backend that stayed").isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(v4.openConnectionCount()).as("the removed backend's idle connection is closed").isZero());
    assertThat(meridian.proxy().metrics().registry().getMeters()).as("the removed backend's meters")
        .noneMatch(m -> ("127.0.0.1:" + v4.port()).equals(m.getId().getTag("backend"))
            && "app".equals(m.getId().getTag("group")))
        .anyMatch(m -> ("[::1]:" + v4.port()).equals(m.getId().getTag("backend")));
  }

  @Test
  void aStickySessionStaysOnItsBackendWhenTheNameGainsAnAddress() throws Exception {
    dns.addresses("app.test", 1, "127.0.0.1");
    String hocon = """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:0" } ]
          admin { enabled = false }
          discovery.dns { servers = [ "%s" ], min-ttl = 100ms }
          backend-groups { app { backends = [ { dns = "app.test:%d" } ] } }
          routes = [ { path-prefix = "/", backend-group = "app", sticky { mode = cookie } } ]
        }
        """.formatted(dns.address(), v4.port());
    meridian = new MeridianInstance(SettingsLoader.parse(hocon, "DnsDiscoveryTest")).start();
    URI uri = URI.create("http://127.0.0.1:" + meridian.listenerAddresses().get(0).getPort() + "/");
    HttpResponse<String> first = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(first.body()).isEqualTo("v4");
    String cookie = first.headers().firstValue("set-cookie").orElseThrow().split(";")[0];

    dns.addresses("app.test", 1, "127.0.0.1", "::1");
    await().atMost(Duration.ofSeconds(10)).until(() -> backendIds().size() == 2);
    for (int i = 0; i < 6; i++) {
      assertThat(client.send(HttpRequest.newBuilder(uri).header("Cookie", cookie).build(),
          HttpResponse.BodyHandlers.ofString()).body()).as("the pinned backend").isEqualTo("v4");
    }
    assertThat(get()).as("a new session may go to the new address").isIn("v4", "v6");
  }

  @Test
  void aFailingResolverKeepsTheLastGoodAnswer() throws Exception {
    dns.addresses("app.test", 1, "127.0.0.1");
    startMeridian("{ dns = \"app.test:" + v4.port() + "\" }", "");
    assertThat(get()).isEqualTo("v4");

    dns.serverFailure(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> failures() >= 2);
    assertThat(backendIds()).containsExactly("127.0.0.1:" + v4.port());
    assertThat(get()).isEqualTo("v4");

    dns.serverFailure(false);
    dns.remove("app.test");
    double before = failures();
    await().atMost(Duration.ofSeconds(10)).until(() -> failures() >= before + 2);
    assertThat(backendIds()).as("NXDOMAIN keeps the last good answer").containsExactly("127.0.0.1:" + v4.port());
    assertThat(get()).isEqualTo("v4");

    dns.close();
    double beforeStop = failures();
    await().atMost(Duration.ofSeconds(10)).until(() -> failures() >= beforeStop + 1);
    assertThat(backendIds()).as("a resolver timeout keeps the last good answer").containsExactly("127.0.0.1:" + v4.port());
    assertThat(get()).isEqualTo("v4");
  }

  @Test
  void aNameWithNoAnswerAtStartLeavesTheGroupEmptyUntilItHasOne() throws Exception {
    startMeridian("{ dns = \"app.test:" + v4.port() + "\" }", "");
    assertThat(backendIds()).isEmpty();
    URI uri = URI.create("http://127.0.0.1:" + meridian.listenerAddresses().get(0).getPort() + "/");
    HttpResponse<String> none = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(none.statusCode()).isEqualTo(503);

    dns.addresses("app.test", 1, "127.0.0.1");
    await().atMost(Duration.ofSeconds(5)).until(() -> backendIds().size() == 1);
    assertThat(get()).isEqualTo("v4");
  }

  @Test
  void aLongTtlIsCutToMaxTtl() throws Exception {
    dns.addresses("app.test", 3600, "127.0.0.1");
    startMeridian("{ dns = \"app.test:" + v4.port() + "\" }", "dns { max-ttl = 300ms }");
    await().atMost(Duration.ofSeconds(5)).until(() -> dns.questions("app.test", "A") >= 4);
  }

  @Test
  void aZeroTtlIsStretchedToMinTtl() throws Exception {
    dns.addresses("app.test", 0, "127.0.0.1");
    long started = System.nanoTime();
    startMeridian("{ dns = \"app.test:" + v4.port() + "\" }", "dns { min-ttl = 500ms }");
    await().atMost(Duration.ofSeconds(5)).until(() -> dns.questions("app.test", "A") >= 3);
    double seconds = (System.nanoTime() - started) / 1e9;
    assertThat(seconds).as("three questions min-ttl (500ms) apart take a second or more").isGreaterThanOrEqualTo(1.0);
  }

  @Test
  void srvRecordsGiveTargetsPortsAndWeightsOfTheLowestPriority() throws Exception {
    try (TestBackend second = TestBackend.start(TestBackend.ok("second"));
        TestBackend fallback = TestBackend.start(TestBackend.ok("fallback"))) {
      dns.srv("_http._tcp.app.test", 60, "10 1 " + v4.port() + " one.app.test",
          "10 3 " + second.port() + " two.app.test", "20 5 " + fallback.port() + " three.app.test");
      dns.addresses("one.app.test", 60, "127.0.0.1");
      dns.addresses("two.app.test", 60, "127.0.0.1");
      dns.addresses("three.app.test", 60, "127.0.0.1");
      startMeridian("{ srv = \"_http._tcp.app.test\", region = \"eu\" }", "");

      Map<String, Integer> weights = meridian.proxy().groups().get("app").backends().stream()
          .collect(Collectors.toMap(Backend::id, Backend::weight));
      assertThat(weights).isEqualTo(Map.of("127.0.0.1:" + v4.port(), 1, "127.0.0.1:" + second.port(), 3));
      List<String> answers = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        answers.add(get());
      }
      assertThat(answers).contains("v4", "second").doesNotContain("fallback");
    }
  }
}
