package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import io.micrometer.core.instrument.Counter;
import java.io.InputStream;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that stops reading its response (a slow reader) is cut off after an idle timeout, with its
 * backend connection dropped, whichever side's idle timer fires first; and the backend is not blamed
 * for it: the pause was Meridian holding the backend back for the client.
 */
class SlowReaderTest {
  private static final int BODY = 32 * 1024 * 1024;
  private TestBackend backend;
  private ForwardingProxy proxy;

  @BeforeEach
  void startBackend() {
    byte[] body = new byte[BODY];
    backend = TestBackend.start(request -> TestBackend.Reply.status(200).body(body));
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    backend.close();
  }

  private double count(String name, String... tags) {
    Counter c = proxy.metrics().registry().find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  /** Asks for the big body, reads its first bytes, then stops reading; returns the bytes read in all, to the end. */
  private long stopReadingThenDrain(String timeouts) throws Exception {
    proxy = ForwardingProxy.to(backend.address()).set("timeouts { " + timeouts + " }").start();
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /big HTTP/1.1\r\nHost: app.test\r\n\r\n");
      byte[] first = client.readBytes(12);
      assertThat(new String(first, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
      await().atMost(Duration.ofSeconds(20)).until(() -> count("meridian.client.send.timeouts") == 1);
      await().atMost(Duration.ofSeconds(10)).until(() -> backend.openConnectionCount() == 0);
      client.socket().setSoTimeout(10_000);
      InputStream in = client.input();
      long read = first.length;
      byte[] buffer = new byte[64 * 1024];
      try {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          read += n;
        }
      } catch (java.net.SocketException reset) {
        // cut off with a reset: as good as an end
      }
      return read;
    }
  }

  @Test
  void aClientThatStopsReadingIsCutOffAfterClientIdleAndItsBackendConnectionDropped() throws Exception {
    long read = stopReadingThenDrain("client-idle = 1s, upstream-idle = 60s");
    assertThat(read).as("the response was cut off").isLessThan(BODY);
    assertThat(count("meridian.upstream.failures", "kind", "timeout")).as("the backend is not blamed").isZero();
  }

  @Test
  void whenTheUpstreamIdleTimerFiresFirstTheBackendIsNotBlamedEither() throws Exception {
    long read = stopReadingThenDrain("client-idle = 60s, upstream-idle = 1s");
    assertThat(read).as("the response was cut off").isLessThan(BODY);
    assertThat(count("meridian.upstream.failures", "kind", "timeout")).as("the backend is not blamed").isZero();
  }
}
