package dev.meridian.proxy.forwarding;

import static dev.meridian.proxy.testing.RawHttp2Client.setting;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.TestBackend;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/2 client that stops reading, here by never opening the stream windows it set to 0, cannot
 * make Meridian hold its responses for ever: after {@code timeouts.client-idle} without progress the
 * connection is closed (GOAWAY ENHANCE_YOUR_CALM) and counted as a send timeout, even while the
 * client keeps it busy with PINGs. A client that reads slowly but reads is served.
 */
class Http2SendTimeoutTest {
  private static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
  private static final long ENHANCE_YOUR_CALM = 0xb;
  private static final int PING = 6;

  private TestBackend backend;
  private ForwardingProxy proxy;

  @BeforeEach
  void start() throws Exception {
    backend = TestBackend.start(request -> TestBackend.Reply.ok("x".repeat(20_000)));
    proxy = ForwardingProxy.to(backend.address()).set("timeouts.client-idle = 1s")
        .set("server.drain-timeout = 30s").start();
  }

  @AfterEach
  void stop() {
    proxy.close();
    backend.close();
  }

  private double sendTimeouts() {
    return proxy.metrics().registry().find("meridian.client.send.timeouts").counter().count();
  }

  @Test
  void aClientThatNeverOpensItsWindowsIsClosedThoughItPings() throws Exception {
    try (RawHttp2Client client = new RawHttp2Client(proxy.port(), setting(SETTINGS_INITIAL_WINDOW_SIZE, 0))
        .lenient()) {
      for (int stream = 1; stream <= 9; stream += 2) {
        client.get(stream, "/big");
      }
      long started = System.nanoTime();
      long deadline = started + Duration.ofSeconds(10).toNanos();
      while (!client.closed() && client.goAwayError() == null && System.nanoTime() < deadline) {
        client.send(PING, 0, 0, new byte[8]); // busy, but reading nothing
        pace();
        client.readAvailable();
      }
      assertThat(client.goAwayError()).isEqualTo(ENHANCE_YOUR_CALM);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
      assertThat(client.dataBytes(1)).as("nothing went past the closed window").isZero();

    }
    assertThat(sendTimeouts()).isEqualTo(1);
  }

  /**
   * A client that opens its window a byte at a time reads, in name only: 2.5 bytes a second with the
   * 1 s timeout here (the check wants 1 KiB granted per quarter timeout), so it is closed like one
   * that reads nothing.
   */
  @Test
  void aClientThatOpensItsWindowAByteAtATimeIsClosed() throws Exception {
    try (RawHttp2Client client = new RawHttp2Client(proxy.port(), setting(SETTINGS_INITIAL_WINDOW_SIZE, 0))
        .lenient()) {
      client.get(1, "/big");
      long started = System.nanoTime();
      long deadline = started + Duration.ofSeconds(10).toNanos();
      while (!client.closed() && client.goAwayError() == null && System.nanoTime() < deadline) {
        client.windowUpdate(1, 1);
        pace();
        client.readAvailable();
      }
      assertThat(client.goAwayError()).isEqualTo(ENHANCE_YOUR_CALM);
      assertThat(client.dataBytes(1)).as("a byte per update").isLessThan(30);
    }
    assertThat(sendTimeouts()).isEqualTo(1);
  }

  /**
   * A client that opens its windows wide and then reads nothing from its socket: the send timeout
   * closes the connection at once, not after the graceful close's wait for its streams
   * (server.drain-timeout, 30 s here), which the stalled streams and a GOAWAY the full socket does not
   * take would make it wait out.
   */
  @Test
  void aClientThatStopsReadingItsSocketIsClosedAtOnce() throws Exception {
    try (TestBackend big = TestBackend.start(request -> TestBackend.Reply.ok("x".repeat(4_000_000)));
        ForwardingProxy bigProxy = ForwardingProxy.to(big.address()).set("timeouts.client-idle = 1s")
            .set("server.drain-timeout = 30s").start();
        RawHttp2Client client = new RawHttp2Client(bigProxy.port(), setting(SETTINGS_INITIAL_WINDOW_SIZE, 0x7fff_ffff))
            .lenient()) {
      client.windowUpdate(0, 0x7fff_0000);
      long started = System.nanoTime();
      for (int stream = 1; stream <= 19; stream += 2) {
        client.get(stream, "/big"); // 40 MB: more than the sockets hold
      }
      // Reads nothing: the proxy's side must be gone within the timeout, its checks and the GOAWAY's
      // grace (2.25 s), not after the drain timeout.
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(8))
          .until(() -> bigProxy.metrics().registry().find("meridian.client.connections").gauge().value() == 1);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(8))
          .until(() -> bigProxy.metrics().registry().find("meridian.client.connections").gauge().value() == 0);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
    }
  }

  @Test
  void aClientThatReadsSlowlyIsServed() throws Exception {
    try (RawHttp2Client client = new RawHttp2Client(proxy.port(), setting(SETTINGS_INITIAL_WINDOW_SIZE, 0))
        .lenient()) {
      client.get(1, "/big");
      // 2,000 bytes every 400 ms: 20,000 bytes in 4 s, four client-idle timeouts, all of it read.
      while (!client.ended(1) && !client.closed()) {
        client.windowUpdate(1, 2_000);
        pace();
        client.readAvailable();
      }
      assertThat(client.closed()).isFalse();
      assertThat(client.dataBytes(1)).isEqualTo(20_000);
    }
    assertThat(sendTimeouts()).isZero();
  }

  /**
   * Paces the simulated client: it acts every 400 ms (its reading rate is what is tested, so time
   * must pass between its frames; nothing here waits for a condition).
   */
  private static void pace() {
    java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(400).toNanos());
  }
}
