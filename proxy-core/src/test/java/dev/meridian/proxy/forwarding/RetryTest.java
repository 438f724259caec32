package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.RawTcpBackend;
import dev.meridian.proxy.testing.TestBackend;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Retries: what may be sent again after a failure, to which backend, and what never is. The first
 * backend of each test fails; the second answers.
 */
class RetryTest {
  private final List<String> bodiesSeenByTheResetter = new CopyOnWriteArrayList<>();

  /** Reads a whole request (head and Content-Length body), records its body, then resets. */
  private RawTcpBackend resetAfterReadingTheBody() throws Exception {
    return RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      String head = RawTcpBackend.readHead(in);
      int length = contentLength(head);
      bodiesSeenByTheResetter.add(new String(in.readNBytes(length), StandardCharsets.ISO_8859_1));
      reset(socket);
    });
  }

  private static int contentLength(String head) {
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        return Integer.parseInt(line.substring(15).trim());
      }
    }
    return 0;
  }

  private static void reset(Socket socket) throws Exception {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  private static RawResponse send(ForwardingProxy proxy, String request) throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send(request);
      return client.readResponse();
    }
  }

  @Test
  void postThatReachedABackendIsNeverSentTwice() throws Exception {
    try (RawTcpBackend resetter = resetAfterReadingTheBody();
        TestBackend healthy = TestBackend.start(TestBackend.echo());
        ForwardingProxy proxy = ForwardingProxy.to(resetter.address(), healthy.address()).start()) {
      RawResponse response = send(proxy,
          "POST /orders HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello");

      assertThat(response.status()).isEqualTo(502);
      assertThat(bodiesSeenByTheResetter).containsExactly("hello");
      assertThat(healthy.requests()).isEmpty();
    }
  }

  @Test
  void idempotentRequestIsRetriedOnAnotherBackendWithItsBody() throws Exception {
    try (RawTcpBackend resetter = resetAfterReadingTheBody();
        TestBackend healthy = TestBackend.start(TestBackend.echo());
        ForwardingProxy proxy = ForwardingProxy.to(resetter.address(), healthy.address()).start()) {
      RawResponse get = send(proxy, "GET /items HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(get.status()).isEqualTo(200);

      RawResponse put = send(proxy, "PUT /items/1 HTTP/1.1\r\nHost: app.test\r\nContent-Length: 7\r\n\r\npayload");
      assertThat(put.status()).isEqualTo(200);
      assertThat(put.bodyText()).isEqualTo("payload");
      assertThat(healthy.requests()).extracting(TestBackend.Request::method).containsExactly("GET", "PUT");
    }
  }

  @Test
  void bodyLargerThanTheReplayLimitIsNotRetried() throws Exception {
    try (RawTcpBackend resetter = resetAfterReadingTheBody();
        TestBackend healthy = TestBackend.start(TestBackend.echo());
        ForwardingProxy proxy = ForwardingProxy.to(resetter.address(), healthy.address())
            .routeOption("retries { max-replay-body = 4 }").start()) {
      RawResponse put = send(proxy, "PUT /items/1 HTTP/1.1\r\nHost: app.test\r\nContent-Length: 7\r\n\r\npayload");
      assertThat(put.status()).isEqualTo(502);
      assertThat(healthy.requests()).isEmpty();
    }
  }

  @Test
  void configuredStatusesAreRetriedForIdempotentRequestsOnly() throws Exception {
    try (TestBackend unavailable = TestBackend.start(TestBackend.status(503));
        TestBackend healthy = TestBackend.start(TestBackend.ok("fine"));
        ForwardingProxy proxy = ForwardingProxy.to(unavailable.address(), healthy.address())
            .routeOption("retries { attempts = 2, on = [connect-failure, reset-before-response, 503] }")
            .start()) {
      for (int i = 0; i < 4; i++) {
        RawResponse get = send(proxy, "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
        assertThat(get.status()).isEqualTo(200);
        assertThat(get.bodyText()).isEqualTo("fine");
      }
      int before = unavailable.requests().size();
      RawResponse post = send(proxy, "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1\r\n\r\nx");
      int after = unavailable.requests().size();
      // Round robin sends the POST to one of the two; if that was the 503 backend, the client sees it.
      assertThat(post.status()).isEqualTo(after > before ? 503 : 200);
    }
  }

  /**
   * When every backend answered a retried status, the client gets the last answer (its status, body
   * and Retry-After), not a 502 of Meridian's; a backend is not asked twice.
   */
  @Test
  void aRetriedStatusFromEveryBackendReachesTheClientAsAnswered() throws Exception {
    java.util.function.Function<String, TestBackend.Responder> maintenance = name -> request ->
        TestBackend.Reply.status(503).header("Retry-After", "120").body("down for maintenance " + name);
    try (TestBackend first = TestBackend.start(maintenance.apply("a"));
        TestBackend second = TestBackend.start(maintenance.apply("b"))) {
      for (java.net.InetSocketAddress[] group : new java.net.InetSocketAddress[][] {
          {first.address()}, {first.address(), second.address()}}) {
        try (ForwardingProxy proxy = ForwardingProxy.to(group)
            .routeOption("retries { attempts = 2, on = [connect-failure, reset-before-response, 503] }").start()) {
          int before = first.requests().size() + second.requests().size();
          RawResponse get = send(proxy, "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
          assertThat(get.status()).as("%d backend(s)", group.length).isEqualTo(503);
          assertThat(get.header("retry-after")).isEqualTo("120");
          assertThat(get.bodyText()).startsWith("down for maintenance");
          assertThat(first.requests().size() + second.requests().size() - before)
              .as("each backend asked once").isEqualTo(group.length);
        }
      }
    }
  }

  @Test
  void anEmptyBudgetStopsRetries() throws Exception {
    try (RawTcpBackend resetter = resetAfterReadingTheBody();
        TestBackend healthy = TestBackend.start(TestBackend.ok("fine"));
        ForwardingProxy proxy = ForwardingProxy.to(resetter.address(), healthy.address())
            .routeOption("retries { budget = 0%, min-per-second = 0 }").start()) {
      RawResponse get = send(proxy, "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(get.status()).isEqualTo(502);
      assertThat(healthy.requests()).isEmpty();
    }
  }

  @Test
  void refusedConnectsAreRetriedWhateverTheBudgetAndAreNotTriedAgain() throws Exception {
    // Two ports that refuse, then a healthy backend: with no budget and no attempts left for requests
    // that reached a backend, connect failures still use all three connect attempts.
    try (TestBackend healthy = TestBackend.start(TestBackend.ok("fine"));
        ForwardingProxy proxy = ForwardingProxy.to(ForwardingProxy.closedPort(), ForwardingProxy.closedPort(),
                healthy.address())
            .groupOption("strategy = round-robin")
            .routeOption("retries { attempts = 0, budget = 0%, min-per-second = 0 }").start()) {
      for (int i = 0; i < 6; i++) {
        RawResponse get = send(proxy, "GET /" + i + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
        assertThat(get.status()).as("GET " + i).isEqualTo(200);
        assertThat(get.bodyText()).isEqualTo("fine");
      }
      assertThat(healthy.requests()).hasSize(6);
    }
  }

  @Test
  void connectFailuresStopAtTheConnectAttempts() throws Exception {
    try (ForwardingProxy proxy = ForwardingProxy.to(ForwardingProxy.closedPort(), ForwardingProxy.closedPort(),
            ForwardingProxy.closedPort(), ForwardingProxy.closedPort())
        .set("upstream.connect-attempts = 2")
        .set("backend-groups.app.health.passive.eject-on-connect-refused = false")
        .routeOption("retries { attempts = 0 }").set("debug-headers = true").start()) {
      RawResponse get = send(proxy, "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(get.status()).isEqualTo(502);
      assertThat(get.bodyText()).contains("could not connect to backend");
    }
  }

  /**
   * With {@code timeout} in retries.on, a request whose backend sent no response headers within the
   * route's response-headers timeout goes to another backend (as nginx's proxy_next_upstream
   * timeout); the route's timeout overrides timeouts.response-headers (60 s here, which the client
   * would not wait for).
   */
  @Test
  void aTimeoutIsRetriedOnAnotherBackendWhenTheRouteSaysSo() throws Exception {
    assertGetsPassOverASilentBackend("response-headers = 300ms, retries { attempts = 1, on = [connect-failure, timeout] }");
  }

  /** Three GETs through a route with these options, over a backend that never answers and one that does: all 200. */
  private static void assertGetsPassOverASilentBackend(String routeOptions) throws Exception {
    try (TestBackend silent = TestBackend.start(TestBackend.never());
        TestBackend healthy = TestBackend.start(TestBackend.ok("fine"));
        ForwardingProxy proxy = ForwardingProxy.to(silent.address(), healthy.address())
            .set("timeouts.response-headers = 60s").routeOption(routeOptions).start()) {
      for (int i = 0; i < 3; i++) {
        RawResponse get = send(proxy, "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
        assertThat(get.status()).isEqualTo(200);
        assertThat(get.bodyText()).isEqualTo("fine");
      }
      assertThat(silent.requests()).as("the silent backend was tried and passed over").isNotEmpty();
    }
  }

  /**
   * On a hedged route whose hedge could not go out (no next region here), a timeout is still retried:
   * only a hedge still racing stands in for the retry.
   */
  @Test
  void aTimeoutIsRetriedOnAHedgedRouteWhenNoHedgeIsRacing() throws Exception {
    assertGetsPassOverASilentBackend("response-headers = 300ms, hedge { after = 50ms, to = next-region },"
        + " retries { attempts = 1, on = [connect-failure, timeout] }");
  }

  /** A POST that timed out is never sent again; without another backend a GET's timeout is a 504. */
  @Test
  void aTimedOutPostIsNotRetriedAndAGetWithNoOtherBackendIs504() throws Exception {
    try (TestBackend one = TestBackend.start(TestBackend.never());
        TestBackend two = TestBackend.start(TestBackend.never());
        ForwardingProxy proxy = ForwardingProxy.to(one.address(), two.address())
            .set("timeouts.response-headers = 60s")
            .routeOption("response-headers = 300ms, retries { attempts = 1, on = [connect-failure, timeout] }")
            .start()) {
      RawResponse get = send(proxy, "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(get.status()).isEqualTo(504);
      assertThat(one.requests().size() + two.requests().size()).as("tried on both").isEqualTo(2);

      RawResponse post = send(proxy, "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1\r\n\r\nx");
      assertThat(post.status()).isEqualTo(504);
      assertThat(one.requests().size() + two.requests().size()).as("sent once").isEqualTo(3);
    }
  }
}
