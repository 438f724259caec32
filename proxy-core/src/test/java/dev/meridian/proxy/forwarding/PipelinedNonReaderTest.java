package dev.meridian.proxy.forwarding;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A client that pipelines requests and does not read the answers stalls its own connection only:
 * the next request starts once the client has taken what was written to it, so answers cannot pile
 * up in the proxy's memory without bound (a few such clients ran a 512 MiB heap out, for good). Once
 * the client reads, every request is answered, in order.
 */
class PipelinedNonReaderTest {
  private static final int REQUESTS = 10_000;
  /** Each answer comes whole (with its head, in one read) and is about 2 KB. */
  private static final String ANSWER = "x".repeat(2000);
  private static final byte[] REQUEST = "GET /p HTTP/1.1\r\nHost: app.test\r\n\r\n".getBytes(US_ASCII);

  @Test
  void pipelinedRequestsWaitWhileTheClientDoesNotReadItsAnswers() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok(ANSWER));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = RawHttpClient.connect(proxy.address(), Duration.ofSeconds(30))) {
      Thread writer = new Thread(() -> {
        try {
          OutputStream out = client.socket().getOutputStream();
          byte[] batch = new byte[REQUEST.length * 1000];
          for (int i = 0; i < 1000; i++) { // a thousand requests a write
            System.arraycopy(REQUEST, 0, batch, i * REQUEST.length, REQUEST.length);
          }
          for (int i = 0; i < REQUESTS / 1000; i++) {
            out.write(batch);
          }
          out.flush();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }, "pipelining-writer");
      writer.setDaemon(true);
      writer.start();

      // The proxy answers until the client's socket is full, then stops: the count settles far short.
      AtomicInteger last = new AtomicInteger(-1);
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
          .until(() -> last.getAndSet(backend.requests().size()) == backend.requests().size());
      int servedWhileNotReading = backend.requests().size();
      assertThat(servedWhileNotReading).as("requests served while the client read nothing")
          .isPositive().isLessThan(REQUESTS / 2);

      // Reading everything now: every request is answered.
      InputStream in = client.input();
      byte[] buffer = new byte[64 * 1024];
      int statusLines = 0;
      int matched = 0;
      byte[] marker = "HTTP/1.1 200".getBytes(US_ASCII);
      while (statusLines < REQUESTS) {
        int n = in.read(buffer);
        assertThat(n).as("answers still to come: " + (REQUESTS - statusLines)).isPositive();
        for (int i = 0; i < n; i++) {
          matched = buffer[i] == marker[matched] ? matched + 1 : (buffer[i] == marker[0] ? 1 : 0);
          if (matched == marker.length) {
            statusLines++;
            matched = 0;
          }
        }
      }
      assertThat(backend.requests()).hasSize(REQUESTS);
    }
  }

  /**
   * A connection whose answer was written before its client read any of it is read again once the
   * client takes it: its next request is answered. (A guard for the wait above; the case where the
   * answer's last bytes are still unsent when it ends, which needs the loopback's send buffer of about
   * a megabyte full at that moment, is left to the code: reading resumes whenever the client becomes
   * writable between requests.)
   */
  @Test
  void theNextRequestIsReadOnceTheClientTookTheLastAnswer() throws Exception {
    String answer = "y".repeat(60_000);
    try (TestBackend backend = TestBackend.start(TestBackend.ok(answer));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address())
            .set("upstream { write-buffer-low = 1KiB, write-buffer-high = 2KiB }").start()) {
      java.net.Socket socket = new java.net.Socket();
      socket.setReceiveBufferSize(4096);
      socket.connect(proxy.address(), 5_000);
      try (RawHttpClient client = RawHttpClient.over(socket)) {
        client.send("GET /first HTTP/1.1\r\nHost: app.test\r\n\r\n");
        // Nothing is read until the answer was written, most of it still in the proxy's buffers.
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.requests().size() == 1
            && proxy.metrics().inFlight() == 0);
        assertThat(client.readResponse().bodyText()).hasSize(60_000);

        client.send("GET /second HTTP/1.1\r\nHost: app.test\r\n\r\n");
        assertThat(client.readResponse().status()).as("the next request on the connection").isEqualTo(200);
      }
    }
  }
}
