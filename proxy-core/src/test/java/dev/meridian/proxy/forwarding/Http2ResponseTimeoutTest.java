package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestBackend.Reply;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The response-headers timeout on the streams of one HTTP/2 connection, which share one timer: each
 * silent stream is answered 504 after its own timeout, the others are served meanwhile, and a stream
 * opened after the connection went quiet is still timed.
 */
class Http2ResponseTimeoutTest {

  @Test
  void eachSilentStreamGets504AfterItsOwnTimeoutWhileTheOthersAreAnswered() throws Exception {
    try (TestBackend backend = TestBackend.start(
            request -> request.uri().startsWith("/slow") ? Reply.never() : Reply.ok("fast"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address())
            .set("timeouts.response-headers = 1s").start();
        RawHttp2Client client = new RawHttp2Client(proxy.port())) {
      long firstSent = System.nanoTime();
      client.get(1, "/slow/a");
      // The second silent stream's deadline comes after the first's: when the timer fires for the
      // first, the second still waits, and the timer must be armed again for it.
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests().size() == 1);
      long secondSent = System.nanoTime();
      client.get(3, "/slow/b");
      client.get(5, "/fast");

      client.readUntil(c -> c.status(5) != null);
      assertThat(client.status(5)).isEqualTo("200");
      assertThat(client.status(1)).as("answered before its timeout").isNull();
      client.readUntil(c -> c.status(1) != null);
      long firstAnswered = System.nanoTime();
      client.readUntil(c -> c.status(3) != null);
      long secondAnswered = System.nanoTime();

      assertThat(client.status(1)).isEqualTo("504");
      assertThat(client.status(3)).isEqualTo("504");
      assertThat(millis(firstAnswered - firstSent)).isBetween(900L, 8_000L);
      assertThat(millis(secondAnswered - secondSent)).isBetween(900L, 8_000L);

      // No stream waits now (the connection's timer stopped); a new silent stream arms it again.
      long thirdSent = System.nanoTime();
      client.get(7, "/slow/c");
      client.readUntil(c -> c.status(7) != null);
      assertThat(client.status(7)).isEqualTo("504");
      assertThat(millis(System.nanoTime() - thirdSent)).isBetween(900L, 8_000L);
      assertThat(backend.requests()).extracting(TestBackend.Request::uri)
          .containsExactlyInAnyOrder("/slow/a", "/slow/b", "/fast", "/slow/c");
    }
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
