package dev.meridian.proxy.server;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawTcpBackend;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.upstream.UpstreamPool;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Upstream connections are reused across requests and client connections, and a connection the
 * backend closes is never reused.
 */
class KeepAliveTest {
  private static final int REQUESTS = 100;

  @Test
  void sequentialRequestsOnOneClientConnectionShareOneUpstreamConnection() throws Exception {
    try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.ok("hello " + request.uri()));
        ProxyFixture proxy = ProxyFixture.start(backend.port());
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      for (int i = 0; i < REQUESTS; i++) {
        client.send("GET /item/" + i + " HTTP/1.1\r\nHost: test\r\n\r\n");
        RawHttpClient.RawResponse response = client.readResponse();

        assertThat(response.status()).as("status of request %d", i).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo("hello /item/" + i);
      }

      assertThat(backend.requests()).hasSize(REQUESTS)
          .extracting(TestBackend.Request::connectionId).containsOnly(1);
      assertThat(backend.connectionCount()).isEqualTo(1);
      assertThat(client.isClosedByPeer(Duration.ofMillis(50))).isFalse();
    }
  }

  @ParameterizedTest(name = "client sends Connection: close = {0}")
  @ValueSource(booleans = {false, true})
  void requestsOnNewClientConnectionsShareOneUpstreamConnection(boolean clientSendsClose) throws Exception {
    String connectionHeader = clientSendsClose ? "Connection: close\r\n" : "";
    try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.ok("hello " + request.uri()));
        ProxyFixture proxy = ProxyFixture.start(backend.port())) {
      for (int i = 0; i < REQUESTS; i++) {
        try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
          client.send("GET /item/" + i + " HTTP/1.1\r\nHost: test\r\n" + connectionHeader + "\r\n");
          RawHttpClient.RawResponse response = client.readResponse();

          assertThat(response.status()).as("status of request %d", i).isEqualTo(200);
          assertThat(response.bodyText()).isEqualTo("hello /item/" + i);
        }
      }

      assertThat(backend.requests()).hasSize(REQUESTS)
          .extracting(TestBackend.Request::connectionId).containsOnly(1);
      assertThat(backend.connectionCount()).isEqualTo(1);
      assertThat(backend.requests()).extracting(r -> r.header("connection")).as("Connection sent upstream")
          .allSatisfy(value -> assertThat(value).isNotEqualToIgnoringCase("close"));
    }
  }

  @Test
  void connectionTheBackendAnnouncedClosingIsNotReused() throws Exception {
    try (TestBackend backend = TestBackend.start(request ->
            TestBackend.Reply.ok("hello " + request.uri()).header("Connection", "close"));
        ProxyFixture proxy = ProxyFixture.start(backend.port());
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      for (int i = 0; i < 3; i++) {
        client.send("GET /item/" + i + " HTTP/1.1\r\nHost: test\r\n\r\n");
        RawHttpClient.RawResponse response = client.readResponse();

        assertThat(response.status()).as("status of request %d", i).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo("hello /item/" + i);
      }

      assertThat(backend.requests()).extracting(TestBackend.Request::connectionId).containsExactly(1, 2, 3);
      assertThat(backend.connectionCount()).isEqualTo(3);
      assertThat(client.isClosedByPeer(Duration.ofMillis(50)))
          .as("the backend's Connection: close is hop-by-hop; the client connection stays open")
          .isFalse();
    }
  }

  @Test
  void connectionTheBackendClosedWhileIdleIsNotReused() throws Exception {
    AtomicInteger answered = new AtomicInteger();
    CountDownLatch firstClosed = new CountDownLatch(1);
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          InputStream in = socket.getInputStream();
          RawTcpBackend.readHead(in);
          OutputStream out = socket.getOutputStream();
          String body = "answer " + answered.incrementAndGet();
          // A keep-alive answer, then the backend drops the idle connection (its idle timeout, say).
          out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body).getBytes(US_ASCII));
          out.flush();
          socket.close();
          firstClosed.countDown();
        });
        ProxyFixture proxy = ProxyFixture.start(backend.port());
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET /first HTTP/1.1\r\nHost: test\r\n\r\n");
      RawHttpClient.RawResponse first = client.readResponse();
      await().atMost(Duration.ofSeconds(5)).until(() -> firstClosed.getCount() == 0);
      // The proxy noticed the close before the next request (a request racing the FIN is another matter).
      await().atMost(Duration.ofSeconds(5)).until(() -> openUpstreamConnections(proxy) == 0);
      client.send("GET /second HTTP/1.1\r\nHost: test\r\n\r\n");
      RawHttpClient.RawResponse second = client.readResponse();

      assertThat(first.status()).isEqualTo(200);
      assertThat(first.bodyText()).isEqualTo("answer 1");
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.bodyText()).isEqualTo("answer 2");
      assertThat(backend.connectionCount()).isEqualTo(2);
      assertThat(backend.errors()).isEmpty();
    }
  }

  private static int openUpstreamConnections(ProxyFixture proxy) {
    return proxy.instance().proxy().pools().all().stream().mapToInt(UpstreamPool::openConnections).sum();
  }
}
