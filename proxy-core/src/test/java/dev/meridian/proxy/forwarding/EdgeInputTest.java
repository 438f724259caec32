package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Inputs at the edge of the grammar: versions, authorities, hosts, and a client that half-closes. */
class EdgeInputTest {

  @ParameterizedTest
  @ValueSource(strings = {"HTTP/2.0", "HTTP/1.2", "HTTP/3.0"})
  void versionsOtherThanOnePointZeroAndOneAreRefused(String version) throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("x"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET / " + version + "\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(505);
      assertThat(backend.requests()).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET http://a\"b<>/abs HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"})
  void malformedHostsAndAuthoritiesAreRefused(String request) throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("x"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send(request);
      assertThat(client.readResponse().status()).isEqualTo(400);
      assertThat(backend.requests()).isEmpty();
    }
  }

  @Test
  void wellFormedHostsPass() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("x"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      for (String host : new String[] {"a.example.com:8080", "[::1]:80", "127.0.0.1", "under_score.local"}) {
        client.send("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        assertThat(client.readResponse().status()).as(host).isEqualTo(200);
      }
    }
  }

  @Test
  void clientThatHalfClosesAfterItsRequestStillGetsTheResponse() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("answer"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      client.socket().shutdownOutput();
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("answer");
      assertThat(client.isClosedByPeer()).isTrue();
    }
  }
}
