package dev.meridian.proxy.forwarding;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttpClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Starts a real Meridian on {@code 127.0.0.1}, port 0, with one route {@code "all"} to a group
 * {@code "app"} of the given backends, for the forwarding tests.
 *
 * <pre>{@code
 * try (ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
 *     RawHttpClient client = proxy.connect()) { ... }
 * }</pre>
 *
 * <p>Defaults are the documented ones except: one event loop, admin off, connect timeout 2s.
 * {@link #routeOption} adds keys to the route object; {@link #set} appends HOCON inside
 * {@code meridian { }} after the defaults, so it overrides them.
 */
final class ForwardingProxy implements AutoCloseable {
  private final List<InetSocketAddress> backends;
  private final List<String> routeOptions = new ArrayList<>();
  private final List<String> groupOptions = new ArrayList<>();
  private final List<String> overrides = new ArrayList<>();
  private MeridianInstance instance;

  private ForwardingProxy(List<InetSocketAddress> backends) {
    this.backends = List.copyOf(backends);
  }

  /** A proxy (not started yet) whose only route forwards to {@code backends}, in this order. */
  static ForwardingProxy to(InetSocketAddress... backends) {
    return new ForwardingProxy(List.of(backends));
  }

  /** Adds {@code hocon} (e.g. {@code rewrite-host = true}) to the route object. */
  ForwardingProxy routeOption(String hocon) {
    routeOptions.add(hocon);
    return this;
  }

  /** Adds {@code hocon} (e.g. {@code protocol = h2c}) to the backend group object. */
  ForwardingProxy groupOption(String hocon) {
    groupOptions.add(hocon);
    return this;
  }

  /** Appends {@code hocon} (e.g. {@code timeouts.response-headers = 1s}) inside {@code meridian}. */
  ForwardingProxy set(String hocon) {
    overrides.add(hocon);
    return this;
  }

  /** The configuration text this proxy starts with. */
  String config() {
    String backendList = backends.stream()
        .map(a -> "{ address = \"" + a.getHostString() + ":" + a.getPort() + "\" }")
        .collect(Collectors.joining(", "));
    String route = String.join(", ", concat(List.of(
        "name = \"all\"", "path-prefix = \"/\"", "backend-group = \"app\""), routeOptions));
    return """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:0" } ]
          admin { enabled = false }
          limits { max-request-line = 8KiB, max-header-bytes = 32KiB, max-header-count = 100, request-head-timeout = 15s }
          timeouts { connect = 2s, response-headers = 30s, client-idle = 60s, upstream-idle = 60s }
          upstream { connect-attempts = 3 }
          server { event-loop-threads = 1 }
          headers { via = "meridian", x-forwarded = true, forwarded = true, request-id-header = "X-Request-Id" }
          backend-groups { app { backends = [ %s ]
            %s } }
          routes = [ { %s } ]
          %s
        }
        """.formatted(backendList, String.join("\n", groupOptions), route, String.join("\n", overrides));
  }

  /** Parses the configuration and starts the proxy. */
  ForwardingProxy start() throws Exception {
    instance = new MeridianInstance(SettingsLoader.parse(config(), "forwarding-test")).start();
    return this;
  }

  /** The listener's address. */
  InetSocketAddress address() {
    return instance.listenerAddresses().get(0);
  }

  /** The admin listener's address (when the test turned admin on). */
  InetSocketAddress adminAddress() {
    return instance.adminAddress();
  }

  /** The proxy's metrics. */
  dev.meridian.proxy.metrics.ProxyMetrics metrics() {
    return instance.proxy().metrics();
  }

  /** The marks on the group's {@code i}th backend (owner to reason; empty while it is available). */
  java.util.Map<String, String> healthMarks(int i) {
    InetSocketAddress backend = backends.get(i);
    return instance.health("app").reasons(backend.getHostString() + ":" + backend.getPort());
  }

  /** The listener's port. */
  int port() {
    return address().getPort();
  }

  /** {@code http://127.0.0.1:port} followed by {@code path}. */
  String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  /** A raw client connected to the listener. */
  RawHttpClient connect() throws IOException {
    return RawHttpClient.connect(address());
  }

  @Override
  public void close() {
    if (instance != null) {
      instance.stop(Duration.ofSeconds(1));
    }
  }

  /** An address on 127.0.0.1 where nothing listens: a port that was bound and released again. */
  static InetSocketAddress closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return new InetSocketAddress("127.0.0.1", socket.getLocalPort());
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
