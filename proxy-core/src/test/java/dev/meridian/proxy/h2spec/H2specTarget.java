package dev.meridian.proxy.h2spec;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The server h2spec runs against in the build: a real Meridian whose only cleartext listener is on
 * {@code 127.0.0.1:<port>} (HTTP/2 with prior knowledge), in front of an in-process HTTP/1.1 backend
 * that answers every request (h2spec sends {@code GET /} and {@code POST /}) with 200 and a non-empty
 * body.
 *
 * <p>Started by the h2spec Maven plugin ({@code proxy-core/pom.xml}), which loads this class from the
 * test classpath inside the Maven JVM, calls {@code main} on a daemon thread with the port as the only
 * argument, waits until the port accepts connections, runs the bundled h2spec binary against
 * {@code 127.0.0.1:<port>}, and then interrupts the thread: {@code main} therefore blocks until
 * interrupted and then stops Meridian and the backend, so nothing stays bound in the Maven JVM.
 *
 * <p>By hand: {@code java -cp <test classpath> dev.meridian.proxy.h2spec.H2specTarget 18080}, then
 * {@code h2spec -p 18080}.
 */
public final class H2specTarget {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(H2specTarget.class);

  private H2specTarget() {}

  /** Runs Meridian on {@code 127.0.0.1:args[0]} until the thread is interrupted. */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    try (TestBackend backend = TestBackend.start(TestBackend.ok("h2spec backend: ok"))) {
      MeridianInstance meridian = new MeridianInstance(SettingsLoader.parse(config(port, backend.address()), "h2spec"))
          .start();
      try {
        log.info("h2spec target: Meridian on 127.0.0.1:{} -> backend {}", port, backend.address());
        new java.util.concurrent.CountDownLatch(1).await(); // until the plugin interrupts this thread
      } catch (InterruptedException e) {
        // The plugin interrupts this thread once h2spec has finished.
      } finally {
        meridian.stop(Duration.ofSeconds(1));
      }
    }
  }

  /** Meridian's configuration: one h2c-capable listener, admin off, one route to the backend. */
  static String config(int port, InetSocketAddress backend) {
    return """
        meridian {
          listeners = [ { name = "h2spec", address = "127.0.0.1:%d" } ]
          admin { enabled = false }
          server { event-loop-threads = 1 }
          timeouts { connect = 2s }
          backend-groups { app { backends = [ { address = "%s:%d" } ] } }
          routes = [ { name = "all", path-prefix = "/", backend-group = "app" } ]
        }
        """.formatted(port, backend.getHostString(), backend.getPort());
  }
}
