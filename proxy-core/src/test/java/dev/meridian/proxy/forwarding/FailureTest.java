package dev.meridian.proxy.forwarding;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.TestBackend;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a client sees when no backend can answer: 502, 504, 404. */
class FailureTest {

  @Test
  void connectFailureIsRetriedOnTheNextBackend() throws Exception {
    InetSocketAddress dead = ForwardingProxy.closedPort();
    try (TestBackend live = TestBackend.start(TestBackend.ok("alive"));
        ForwardingProxy proxy = ForwardingProxy.to(dead, live.address()).start();
        RawHttpClient client = proxy.connect()) {
      // Round-robin starts on either backend; four requests try the dead one at least once.
      for (int i = 0; i < 4; i++) {
        client.send("GET /r" + i + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
        RawResponse response = client.readResponse();
        assertThat(response.status()).as(response.bodyText()).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo("alive");
      }
      assertThat(live.requests()).extracting(TestBackend.Request::uri)
          .containsExactly("/r0", "/r1", "/r2", "/r3");
    }
  }

  /** A client is told the kind of failure only: which backend failed, and how, is the operator's. */
  @Test
  void a502DoesNotNameTheBackendToTheClient() throws Exception {
    InetSocketAddress dead = ForwardingProxy.closedPort();
    try (ForwardingProxy proxy = ForwardingProxy.to(dead).set("upstream.connect-attempts = 1").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(502);
      assertThat(response.header("x-content-type-options")).isEqualTo("nosniff");
      assertThat(response.bodyText()).isEqualTo("502 Bad Gateway: no backend gave an answer; try again later\n")
          .doesNotContain(String.valueOf(dead.getPort())).doesNotContain("app");
    }
  }

  /** With debug-headers, a 502's body says which backend failed and how. */
  @Test
  void onlyDeadBackendsGive502NamingTheReason() throws Exception {
    InetSocketAddress dead = ForwardingProxy.closedPort();
    try (ForwardingProxy proxy = ForwardingProxy.to(dead).set("upstream.connect-attempts = 1")
            .set("debug-headers = true").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(502);
      assertThat(response.header("content-type")).startsWith("text/plain");
      assertThat(response.header("x-request-id")).matches("[0-9a-f]{32}");
      assertThat(response.bodyText())
          .startsWith("502 Bad Gateway: ")
          .contains("could not connect to backend")
          .contains(String.valueOf(dead.getPort()));
    }
  }

  @Test
  void allBackendsDeadAfterRetriesGive502() throws Exception {
    InetSocketAddress first = ForwardingProxy.closedPort();
    InetSocketAddress second = ForwardingProxy.closedPort();
    try (ForwardingProxy proxy = ForwardingProxy.to(first, second).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(502);
      assertThat(response.bodyText()).isEqualTo("502 Bad Gateway: no backend gave an answer; try again later\n");
    }
  }

  @Test
  void backendThatNeverAnswersGives504() throws Exception {
    try (TestBackend silent = TestBackend.start(TestBackend.never());
        ForwardingProxy proxy = ForwardingProxy.to(silent.address())
            .set("timeouts.response-headers = 1s").start();
        RawHttpClient client = proxy.connect()) {
      long start = System.nanoTime();
      client.send("GET /slow HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse response = client.readResponse();
      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

      assertThat(response.status()).isEqualTo(504);
      assertThat(response.bodyText()).isEqualTo("504 Gateway Timeout: the backend did not answer in time\n");
      assertThat(elapsedMillis).isBetween(900L, 8_000L);
      assertThat(silent.requests()).extracting(TestBackend.Request::uri).containsExactly("/slow");
      // The abandoned upstream connection is closed, not returned to the pool.
      await().atMost(Duration.ofSeconds(5)).until(() -> silent.openConnectionCount() == 0);
    }
  }

  @Test
  void requestMatchingNoRouteGets404() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("routed"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address())
            .routeOption("host = \"only.example.com\"").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /x HTTP/1.1\r\nHost: other.example.com\r\n\r\n");
      RawResponse missing = client.readResponse();
      client.send("GET /x HTTP/1.1\r\nHost: only.example.com\r\n\r\n");
      RawResponse routed = client.readResponse();

      assertThat(missing.status()).isEqualTo(404);
      assertThat(missing.header("content-type")).isEqualTo("text/plain; charset=utf-8");
      assertThat(missing.bodyText()).as("the client's host is not echoed")
          .isEqualTo("404 Not Found: no route for this host and path\n");
      assertThat(routed.bodyText()).as("the connection survives a 404").isEqualTo("routed");
      assertThat(backend.requests()).hasSize(1);
    }
  }

  @Test
  void curlSees404ForAnUnroutedHost() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("routed"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address())
            .routeOption("host = \"only.example.com\"").start()) {
      Process curl = new ProcessBuilder("curl", "-sS", "--max-time", "10", "-H", "Host: nowhere.example.com",
          "-w", "\n%{http_code}", proxy.url("/p"))
          .redirectErrorStream(true)
          .start();
      assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
      String output = new String(curl.getInputStream().readAllBytes(), US_ASCII);

      assertThat(output).isEqualTo("404 Not Found: no route for this host and path\n\n404");
      assertThat(backend.connectionCount()).isZero();
    }
  }
}
