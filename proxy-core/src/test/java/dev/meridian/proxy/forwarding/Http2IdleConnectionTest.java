package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.TestBackend;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/2 connection without an open stream is closed after {@code timeouts.client-idle} even while
 * its client keeps the socket busy with PINGs; one whose stream waits on a slow backend is not.
 */
class Http2IdleConnectionTest {
  private static final int PING = 6;

  @Test
  void pingsDoNotKeepAConnectionWithoutStreamsOpen() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("fine"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("timeouts.client-idle = 1s").start();
        RawHttp2Client client = new RawHttp2Client(proxy.port()).lenient()) {
      client.get(1, "/one");
      client.readUntil(c -> c.ended(1));
      long started = System.nanoTime();
      long deadline = started + Duration.ofSeconds(10).toNanos();
      boolean closed = false;
      while (!closed && System.nanoTime() < deadline) {
        try {
          client.send(PING, 0, 0, new byte[8]);
          pace();
          client.readAvailable();
          closed = client.closed();
        } catch (java.io.IOException closedByProxy) {
          closed = true; // the proxy closed it between two PINGs
        }
      }
      assertThat(closed).as("closed though it pinged every 300 ms").isTrue();
      assertThat(client.goAwayError()).as("a GOAWAY without error, when it was read").isIn(null, 0L);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
    }
  }

  @Test
  void aStreamWaitingOnASlowBackendKeepsTheConnection() throws Exception {
    CompletableFuture<TestBackend.Reply> held = new CompletableFuture<>();
    try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.when(held));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("timeouts.client-idle = 1s")
            .set("timeouts.response-headers = 30s").start();
        RawHttp2Client client = new RawHttp2Client(proxy.port()).lenient()) {
      client.get(1, "/slow");
      long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
      while (System.nanoTime() < until && !client.closed()) {
        client.send(PING, 0, 0, new byte[8]);
        pace();
        client.readAvailable();
      }
      assertThat(client.closed()).as("the stream is still open after 2.5 client-idle timeouts").isFalse();
      held.complete(TestBackend.Reply.ok("late"));
      client.readUntil(c -> c.ended(1));
      assertThat(client.status(1)).isEqualTo("200");
    } finally {
      held.complete(TestBackend.Reply.status(503));
    }
  }

  /** The simulated client acts every 300 ms: time must pass between its PINGs, nothing waits on a condition. */
  private static void pace() {
    LockSupport.parkNanos(Duration.ofMillis(300).toNanos());
  }
}
