package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.TestBackend;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A route's {@code response-deadline}: how long a request waits for its response headers in all,
 * every try together, whatever phase it is in when the deadline passes.
 */
class ResponseDeadlineTest {

  private static RawResponse get(ForwardingProxy proxy, String path) throws IOException {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET " + path + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
      return client.readResponse();
    }
  }

  private static double count(ForwardingProxy proxy, String name, String... tags) {
    Counter c = proxy.metrics().registry().find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  /**
   * Retried timeouts would take three tries of a second each; the deadline of 1.5 s ends the second
   * try and makes no third, and the 504 says why.
   */
  @Test
  void retriesAfterTimeoutsStopAtTheDeadline() throws Exception {
    try (TestBackend one = TestBackend.start(TestBackend.never());
        TestBackend two = TestBackend.start(TestBackend.never());
        TestBackend three = TestBackend.start(TestBackend.never());
        ForwardingProxy proxy = ForwardingProxy.to(one.address(), two.address(), three.address())
            .set("debug-headers = true")
            .routeOption("response-headers = 1s, response-deadline = 1500ms,"
                + " retries { attempts = 2, on = [connect-failure, timeout] }")
            .start()) {
      RawResponse response = get(proxy, "/");

      assertThat(response.status()).isEqualTo(504);
      assertThat(response.bodyText()).contains("no response within route all's response-deadline of 1500 ms (2 tries");
      assertThat(one.requests().size() + two.requests().size() + three.requests().size())
          .as("the second try was cut off and no third made").isEqualTo(2);
      assertThat(count(proxy, "meridian.upstream.failures", "kind", "timeout")).as("the first try's own timeout")
          .isEqualTo(1);
      assertThat(count(proxy, "meridian.upstream.failures", "kind", "deadline")).isEqualTo(1);
    }
  }

  /** A hedge that was out when the deadline passed is named in the 504 beside the tries. */
  @Test
  void theDeadlinesAnswerCountsAHedge() throws Exception {
    try (TestBackend one = TestBackend.start(TestBackend.never());
        TestBackend two = TestBackend.start(TestBackend.never());
        ForwardingProxy proxy = ForwardingProxy.to(one.address(), two.address())
            .set("debug-headers = true")
            .routeOption("response-headers = 5s, response-deadline = 600ms, hedge { after = 100ms, to = same-region }")
            .start()) {
      RawResponse response = get(proxy, "/");

      assertThat(response.status()).isEqualTo(504);
      assertThat(response.bodyText()).contains("response-deadline of 600 ms (1 try and 1 hedge)");
      assertThat(one.requests().size() + two.requests().size()).as("the request and its hedge").isEqualTo(2);
    }
  }

  /** Without a deadline (the default), the same route makes all three tries. */
  @Test
  void withoutADeadlineEachTryWaitsItsOwnTimeout() throws Exception {
    try (TestBackend one = TestBackend.start(TestBackend.never());
        TestBackend two = TestBackend.start(TestBackend.never());
        TestBackend three = TestBackend.start(TestBackend.never());
        ForwardingProxy proxy = ForwardingProxy.to(one.address(), two.address(), three.address())
            .routeOption("response-headers = 300ms, retries { attempts = 2, on = [connect-failure, timeout] }")
            .start()) {
      assertThat(get(proxy, "/").status()).isEqualTo(504);
      assertThat(one.requests().size() + two.requests().size() + three.requests().size()).isEqualTo(3);
    }
  }

  /**
   * A request queued for a full backend's slot is answered when the deadline passes, before its
   * queue-timeout, and leaves the queue.
   */
  @Test
  void aRequestQueuedForAFullBackendIsAnsweredAtTheDeadline() throws Exception {
    try (TestBackend stalled = TestBackend.start(TestBackend.never());
        ForwardingProxy proxy = ForwardingProxy.to(stalled.address())
            .set("debug-headers = true")
            .groupOption("limits { max-connections = 1, queue-timeout = 30s }")
            .set("routes = [ { name = \"bounded\", path-prefix = \"/bounded\", backend-group = \"app\","
                + " response-deadline = 400ms }, { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]")
            .start();
        RawHttpClient holder = proxy.connect()) {
      holder.send("GET /hold HTTP/1.1\r\nHost: app.test\r\n\r\n");
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
          .until(() -> stalled.requests().size() == 1);

      RawResponse queued = get(proxy, "/bounded");

      assertThat(queued.status()).isEqualTo(504);
      assertThat(queued.bodyText()).contains("response-deadline of 400 ms (still waiting for a backend to take it)");
      // A request with a body counts from the body's end, though its body waits here for the slot.
      try (RawHttpClient poster = proxy.connect()) {
        poster.send("POST /bounded HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello");
        RawResponse post = poster.readResponse();
        assertThat(post.status()).isEqualTo(504);
        assertThat(post.bodyText()).contains("(still waiting for a backend to take it)");
      }
      assertThat(stalled.requests()).as("the queued requests never reached the backend").hasSize(1);
    }
  }

  /**
   * The deadline counts from the end of the request's body: a client that takes longer than the
   * deadline to upload is not answered 504 for it.
   */
  @Test
  void aSlowUploadIsNotChargedToTheDeadline() throws Exception {
    try (TestBackend echo = TestBackend.start(TestBackend.echo());
        TestBackend stalled = TestBackend.start(TestBackend.never());
        ForwardingProxy proxy = ForwardingProxy.to(echo.address())
            .set("backend-groups.stalled { backends = [ { address = \"127.0.0.1:" + stalled.address().getPort()
                + "\" } ] }")
            .set("routes = [ { name = \"stall\", path-prefix = \"/stall\", backend-group = \"stalled\","
                + " response-deadline = 300ms }, { name = \"all\", path-prefix = \"/\", backend-group = \"app\","
                + " response-deadline = 300ms } ]")
            .start();
        RawHttpClient uploader = proxy.connect()) {
      uploader.send("PUT /items/1 HTTP/1.1\r\nHost: app.test\r\nContent-Length: 7\r\n\r\n");
      // A request started after the upload's head, with the same deadline, runs out of it first:
      // the upload's head is then older than the deadline.
      assertThat(get(proxy, "/stall").status()).isEqualTo(504);

      uploader.send("payload");
      RawResponse response = uploader.readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("payload");
    }
  }

  /**
   * A client sending {@code Expect: 100-continue} holds its body until the backend answers: a backend
   * that ignores Expect and waits for the body owes the answer from the head on, so the route's
   * response-headers (and its deadline) apply, not the client's body rate (a 408 blaming the client).
   */
  @Test
  void aRequestExpecting100IsTimedFromItsHead() throws Exception {
    try (dev.meridian.proxy.testing.RawTcpBackend waitsForTheBody = dev.meridian.proxy.testing.RawTcpBackend.start(
            socket -> {
              dev.meridian.proxy.testing.RawTcpBackend.readHead(socket.getInputStream());
              socket.getInputStream().readNBytes(10); // the body, which the client holds back for a 100
            });
        ForwardingProxy proxy = ForwardingProxy.to(waitsForTheBody.address())
            .set("debug-headers = true")
            .routeOption("response-headers = 500ms").start();
        RawHttpClient client = proxy.connect()) {
      client.send("PUT /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(504);
      assertThat(response.bodyText()).contains("did not answer in time");
    }
  }

  /** HTTP/2 streams keep the same deadline (curl with prior knowledge, as .ci/run installs it). */
  @Test
  void anHttp2StreamGets504AtTheDeadline() throws Exception {
    assumeTrue(curlInstalled(), "curl is installed by .ci/run");
    try (TestBackend one = TestBackend.start(TestBackend.never());
        TestBackend two = TestBackend.start(TestBackend.never());
        ForwardingProxy proxy = ForwardingProxy.to(one.address(), two.address())
            .set("debug-headers = true")
            .routeOption("response-headers = 1s, response-deadline = 1200ms,"
                + " retries { attempts = 1, on = [connect-failure, timeout] }")
            .start()) {
      String out = curl("--http2-prior-knowledge", "-s", "-i", proxy.url("/"));

      assertThat(out).startsWith("HTTP/2 504").contains("response-deadline of 1200 ms (2 tries");
    }
  }

  private static boolean curlInstalled() {
    try {
      return new ProcessBuilder("curl", "--version").start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String curl(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("curl", "--max-time", "20"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
      try {
        return p.getInputStream().readAllBytes();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(out.get(), StandardCharsets.UTF_8);
  }
}
