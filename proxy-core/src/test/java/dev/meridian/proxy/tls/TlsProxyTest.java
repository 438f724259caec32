package dev.meridian.proxy.tls;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The frame of a test of a TLS listener end to end: a temporary directory for certificates, one
 * backend, one proxy routing everything to it, both stopped after each test.
 */
abstract class TlsProxyTest {
  @TempDir
  Path dir;
  TestBackend backend;
  MeridianInstance proxy;

  @AfterEach
  void stopProxyAndBackend() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    if (backend != null) {
      backend.close();
    }
  }

  /**
   * Starts the proxy with the given listeners (HOCON list elements) in front of {@link #backend},
   * every request routed to it by {@code route} (HOCON route fields after the group).
   */
  void startProxy(String listeners, String route, String name) throws Exception {
    proxy = new MeridianInstance(SettingsLoader.parse("meridian {\n"
        + "  listeners = [ " + listeners + " ]\n"
        + "  admin { enabled = false }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + backend.port() + "\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" " + route + " } ]\n"
        + "}\n", name)).start();
  }

  /** The port of the proxy's {@code index}th listener. */
  int port(int index) {
    return proxy.listenerAddresses().get(index).getPort();
  }
}
