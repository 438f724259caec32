package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Backends of different groups that share an id are different backends: each group's requests reach its own. */
class BackendIdAcrossGroupsTest {
  /** A reload that moves a backend id to another address sends its requests there, not down a pooled connection to the old one. */
  @Test
  void aBackendWhoseAddressAReloadChangedIsReachedAtItsNewAddress() throws Exception {
    try (TestBackend x = TestBackend.start(TestBackend.ok("x"));
        TestBackend y = TestBackend.start(TestBackend.ok("y"))) {
      String hocon = """
          meridian {
            listeners = [ { address = "127.0.0.1:0" } ]
            admin { enabled = false }
            server { event-loop-threads = 1 }
            backend-groups { g { backends = [ { id = "a1", address = "127.0.0.1:%d" } ] } }
            routes = [ { backend-group = g } ]
          }
          """;
      MeridianInstance proxy = new MeridianInstance(SettingsLoader.parse(hocon.formatted(x.port()), "ids")).start();
      try (RawHttpClient client = RawHttpClient.connect(proxy.listenerAddresses().get(0))) {
        client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(client.readResponse().bodyText()).isEqualTo("x");

        proxy.proxy().reload(SettingsLoader.parse(hocon.formatted(y.port()), "ids"));

        for (int i = 0; i < 3; i++) {
          client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
          assertThat(client.readResponse().bodyText()).isEqualTo("y");
        }
      } finally {
        proxy.stop(Duration.ZERO);
      }
    }
  }

  @Test
  void aSharedIdDoesNotSendOneGroupsRequestsToTheOthersBackend() throws Exception {
    try (TestBackend x = TestBackend.start(TestBackend.ok("x"));
        TestBackend y = TestBackend.start(TestBackend.ok("y"))) {
      String hocon = """
          meridian {
            listeners = [ { address = "127.0.0.1:0" } ]
            admin { enabled = false }
            server { event-loop-threads = 1 }
            backend-groups {
              gx { backends = [ { id = "a1", address = "127.0.0.1:%d" } ] }
              gy { backends = [ { id = "a1", address = "127.0.0.1:%d" } ] }
            }
            routes = [ { path-prefix = "/x", backend-group = gx }, { path-prefix = "/y", backend-group = gy } ]
          }
          """.formatted(x.port(), y.port());
      MeridianInstance proxy = new MeridianInstance(SettingsLoader.parse(hocon, "ids")).start();
      try (RawHttpClient client = RawHttpClient.connect(proxy.listenerAddresses().get(0))) {
        for (int i = 0; i < 3; i++) {
          client.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
          assertThat(client.readResponse().bodyText()).isEqualTo("x");
          client.send("GET /y HTTP/1.1\r\nHost: a\r\n\r\n");
          assertThat(client.readResponse().bodyText()).isEqualTo("y");
        }
      } finally {
        proxy.stop(Duration.ZERO);
      }
    }
  }
}
