package dev.meridian.proxy.server;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Runs one {@link MeridianInstance} on {@code 127.0.0.1}, port 0, routing every request to a single
 * backend group "app" of the given backend ports, for tests of the proxy end to end.
 *
 * <pre>{@code
 * try (TestBackend backend = TestBackend.start(TestBackend.ok("hi"));
 *     ProxyFixture proxy = ProxyFixture.start(List.of(backend.port()), "")) {
 *   RawHttpClient.connect(proxy.port()) ...
 * }
 * }</pre>
 *
 * <p>Defaults: one event loop (so every client shares one upstream pool), admin disabled, timeouts short
 * enough that a hung test fails in seconds. {@code extraHocon} is appended after the base document, so
 * it overrides any key, e.g. {@code "meridian.timeouts.response-headers = 2s"}.
 */
final class ProxyFixture implements AutoCloseable {
  private final MeridianInstance instance;

  private ProxyFixture(MeridianInstance instance) {
    this.instance = instance;
  }

  /** Starts a proxy in front of {@code backendPorts} with the defaults and {@code extraHocon} over them. */
  static ProxyFixture start(List<Integer> backendPorts, String extraHocon) throws Exception {
    String backends = backendPorts.stream()
        .map(port -> "{ address = \"127.0.0.1:" + port + "\" }")
        .collect(Collectors.joining(", "));
    String hocon = """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:0" } ]
          admin { enabled = false }
          limits { request-head-timeout = 15s }
          timeouts { connect = 2s, response-headers = 30s, client-idle = 60s, upstream-idle = 60s }
          upstream { max-idle-per-backend = 64, connect-attempts = 3 }
          server { event-loop-threads = 1, drain-timeout = 5s }
          backend-groups { app { backends = [ %s ] } }
          routes = [ { name = "all", path-prefix = "/", backend-group = "app" } ]
        }
        """.formatted(backends) + extraHocon + "\n";
    return new ProxyFixture(new MeridianInstance(SettingsLoader.parse(hocon, "ProxyFixture")).start());
  }

  /** Starts a proxy in front of one backend port with the defaults. */
  static ProxyFixture start(int backendPort) throws Exception {
    return start(List.of(backendPort), "");
  }

  /** The port of the (only) client listener. */
  int port() {
    return address().getPort();
  }

  /** The bound client listener address. */
  InetSocketAddress address() {
    return instance.listenerAddresses().get(0);
  }

  /** The running instance, e.g. to {@link MeridianInstance#stop(Duration)} it from a test. */
  MeridianInstance instance() {
    return instance;
  }

  /** Stops the proxy without draining (idempotent; a test that drained already is not affected). */
  @Override
  public void close() {
    instance.stop(Duration.ZERO);
  }
}
