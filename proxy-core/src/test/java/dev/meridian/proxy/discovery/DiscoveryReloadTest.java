package dev.meridian.proxy.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.balancer.Backend;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestDnsServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Discovery across configuration reloads, and discovered backends in the admin API. */
class DiscoveryReloadTest {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private TestDnsServer dns;
  private TestBackend v4;
  private TestBackend v6;
  private MeridianInstance meridian;

  @BeforeEach
  void start() throws Exception {
    dns = TestDnsServer.start();
    v4 = TestBackend.start(TestBackend.ok("v4"));
    v6 = TestBackend.start(TestBackend.ok("v6"), "::1", v4.port());
    dns.addresses("four.test", 60, "127.0.0.1").addresses("six.test", 60, "::1");
  }

  @AfterEach
  void stop() {
    if (meridian != null) {
      meridian.close();
    }
    v4.close();
    v6.close();
    dns.close();
  }

  private MeridianSettings settings(String appEntries, String moreGroups) throws Exception {
    return SettingsLoader.parse("""
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:0" } ]
          admin { enabled = true, address = "127.0.0.1:0" }
          discovery.dns { servers = [ "%s" ], query-timeout = 500ms }
          backend-groups { app { backends = [ %s ] }
%s }
          routes = [ { path-prefix = "/", backend-group = "app" } ]
        }
        """.formatted(dns.address(), appEntries, moreGroups), "DiscoveryReloadTest");
  }

  private List<String> ids(String group) {
    return meridian.proxy().groups().get(group).backends().stream().map(Backend::id).toList();
  }

  private String get(String path, int port) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void aReloadKeepsUnchangedSourcesAndRestartsChangedOnes() throws Exception {
    String four = "{ dns = \"four.test:" + v4.port() + "\" }";
    meridian = new MeridianInstance(settings(four, "")).start();
    assertThat(ids("app")).containsExactly("127.0.0.1:" + v4.port());
    int questions = dns.questions("four.test", "A");

    meridian.proxy().reload(settings(four, ""));
    assertThat(ids("app")).as("an unchanged source keeps its answer through a reload").containsExactly(
        "127.0.0.1:" + v4.port());
    assertThat(dns.questions("four.test", "A")).as("and is not asked again").isEqualTo(questions);

    meridian.proxy().reload(settings("{ dns = \"six.test:" + v4.port() + "\" }",
        "other { backends = [ { dns = \"four.test:" + v4.port() + "\", region = \"eu\" } ] }"));
    assertThat(ids("app")).as("a group whose entries changed keeps its backends until the new ones answer")
        .isNotEmpty();
    await().atMost(Duration.ofSeconds(5)).until(() -> ids("app").equals(List.of("[::1]:" + v4.port()))
        && ids("other").equals(List.of("127.0.0.1:" + v4.port())));
    assertThat(get("/", meridian.listenerAddresses().get(0).getPort())).isEqualTo("v6");

    String backends = get("/admin/api/backends", meridian.adminAddress().getPort());
    assertThat(backends).contains("[::1]:" + v4.port()).contains("127.0.0.1:" + v4.port());

    meridian.proxy().reload(settings("{ address = \"127.0.0.1:" + v4.port() + "\", id = \"fixed\" }", ""));
    assertThat(ids("app")).containsExactly("fixed");
    assertThat(get("/", meridian.listenerAddresses().get(0).getPort())).isEqualTo("v4");
  }
}
