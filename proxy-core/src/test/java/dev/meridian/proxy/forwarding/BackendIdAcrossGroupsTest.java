package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A backend is its id and its address: backends of two groups that share an id are two backends, and
 * an id a reload moves to another address is a new one. Each group's requests reach its own server.
 */
class BackendIdAcrossGroupsTest {
  /** Settings with these backend groups and routes (one event loop, so every request shares one pool). */
  private static MeridianSettings settings(String groupsAndRoutes) throws Exception {
    return SettingsLoader.parse("""
        meridian {
          listeners = [ { address = "127.0.0.1:0" } ]
          admin { enabled = false }
          server { event-loop-threads = 1 }
          %s
        }
        """.formatted(groupsAndRoutes), "ids");
  }

  private static String get(RawHttpClient client, String path) throws Exception {
    client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
    return client.readResponse().bodyText();
  }

  @Test
  void aSharedIdDoesNotSendOneGroupsRequestsToTheOthersBackend() throws Exception {
    try (TestBackend x = TestBackend.start(TestBackend.ok("x"));
        TestBackend y = TestBackend.start(TestBackend.ok("y"))) {
      MeridianInstance proxy = new MeridianInstance(settings("""
          backend-groups {
            gx { backends = [ { id = "a1", address = "127.0.0.1:%d" } ] }
            gy { backends = [ { id = "a1", address = "127.0.0.1:%d" } ] }
          }
          routes = [ { path-prefix = "/x", backend-group = gx }, { path-prefix = "/y", backend-group = gy } ]
          """.formatted(x.port(), y.port()))).start();
      try (RawHttpClient client = RawHttpClient.connect(proxy.listenerAddresses().get(0))) {
        for (int i = 0; i < 3; i++) {
          assertThat(get(client, "/x")).isEqualTo("x");
          assertThat(get(client, "/y")).isEqualTo("y");
        }
      } finally {
        proxy.stop(Duration.ZERO);
      }
    }
  }

  /** A reload that moves an id to another address sends its requests there, not down a pooled connection to the old one. */
  @Test
  void aBackendWhoseAddressAReloadChangedIsReachedAtItsNewAddress() throws Exception {
    try (TestBackend x = TestBackend.start(TestBackend.ok("x"));
        TestBackend y = TestBackend.start(TestBackend.ok("y"))) {
      String group = """
          backend-groups { g { backends = [ { id = "a1", address = "127.0.0.1:%d" } ] } }
          routes = [ { backend-group = g } ]
          """;
      MeridianInstance proxy = new MeridianInstance(settings(group.formatted(x.port()))).start();
      try (RawHttpClient client = RawHttpClient.connect(proxy.listenerAddresses().get(0))) {
        assertThat(get(client, "/")).isEqualTo("x");

        proxy.proxy().reload(settings(group.formatted(y.port())));

        for (int i = 0; i < 3; i++) {
          assertThat(get(client, "/")).isEqualTo("y");
        }
        // Its meters read the new backend: its latency, not NaN from the old one's missing stats.
        assertThat(proxy.proxy().metrics().registry().find("meridian.backend.ewma.seconds")
            .tags("group", "g", "backend", "a1").gauge().value()).isPositive();
      } finally {
        proxy.stop(Duration.ZERO);
      }
    }
  }
}
