package dev.meridian.proxy.forwarding;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.RawTcpBackend;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Attacks a review found to work, kept as regression tests: each once showed a bug and now asserts
 * the fixed behaviour.
 */
class UpstreamAndTimeoutAttackTest {

  /**
   * A backend that sends a body with a 204 (a common backend bug) must not poison the next
   * pipelined request: the leftover bytes arrive while no request owns the connection, so the
   * connection is closed and the next request goes out on a new one.
   */
  @Test
  void leftoverBytesAfterA204NeverBecomeTheNextRequestsResponse() throws Exception {
    byte[] smuggled = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL".getBytes(US_ASCII);
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          InputStream in = socket.getInputStream();
          OutputStream out = socket.getOutputStream();
          RawTcpBackend.readHead(in);
          out.write(("HTTP/1.1 204 No Content\r\nContent-Length: " + smuggled.length + "\r\n\r\n")
              .getBytes(US_ASCII));
          out.write(smuggled);
          out.flush();
          try {
            RawTcpBackend.readHead(in); // the second request arrives on the same connection
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nREAL".getBytes(US_ASCII));
            out.flush();
          } catch (java.io.EOFException closed) {
            // fixed proxy: connection discarded
          }
          // Hold the connection until the proxy closes it (or 5 s pass), so the close is the proxy's.
          socket.setSoTimeout(5000);
          try {
            while (in.read() >= 0) {
              // discard
            }
          } catch (java.net.SocketTimeoutException | java.net.SocketException done) {
            // the deadline passed or the proxy reset the connection
          }
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /no-content HTTP/1.1\r\nHost: app.test\r\n\r\n"
          + "GET /second HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse first = client.readResponse();
      RawResponse second = client.readResponse();

      assertThat(first.status()).isEqualTo(204);
      // The second request went out on a new connection, whose script answers 204 again.
      assertThat(second.status()).isEqualTo(204);
      assertThat(second.bodyText()).isEmpty();
    }
  }

  /**
   * An idempotent GET that fails on a reused keep-alive connection (the backend closed it as the
   * request went out: the classic keep-alive race) is sent again on a new connection to the same
   * backend, even when the group has only that one.
   */
  /**
   * A backend that stops sending mid-body is noticed by the upstream idle timeout (which the
   * backend-facing codec watches): the client's response is cut off rather than left hanging.
   */
  @Test
  void aBackendThatStallsMidBodyIsCutOffAfterTheUpstreamIdleTimeout() throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      RawTcpBackend.readHead(in);
      socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"
          .getBytes(US_ASCII));
      socket.getOutputStream().flush();
      while (in.read() >= 0) {
        // stalled until the proxy gives up on it
      }
    });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("timeouts.upstream-idle = 1s").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /stall HTTP/1.1\r\nHost: app.test\r\n\r\n");
      long sent = System.nanoTime();
      StringBuilder received = new StringBuilder();
      while (!received.toString().endsWith("\r\n\r\npartial")) {
        received.append((char) client.readBytes(1)[0]); // the head and the part of the body sent
      }
      assertThat(received.toString()).startsWith("HTTP/1.1 200 ");
      assertThat(client.isClosedByPeer(Duration.ofSeconds(10))).as("the stalled response is cut off").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
    }
  }

  /** A backend's id where the configuration names none: its address. */
  private static String backendId(RawTcpBackend backend) {
    return backend.address().getHostString() + ":" + backend.port();
  }

  @Test
  void getOnAStalePooledConnectionIsSentAgainOnANewConnection() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          connections.incrementAndGet();
          InputStream in = socket.getInputStream();
          OutputStream out = socket.getOutputStream();
          RawTcpBackend.readHead(in);
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(US_ASCII));
          out.flush();
          RawTcpBackend.readHead(in); // second request on the reused connection: hang up unanswered
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("debug-headers = true").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /a HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      client.send("GET /b HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(connections.get()).isEqualTo(2);
      // Sent again without spending a try, but not unseen: a backend that dies with requests on its
      // pooled connections shows here, in the decision and in the log.
      assertThat(response.header("X-Meridian-Decision"))
          .startsWith("resent (backend " + backendId(backend) + " closed a pooled connection before answering); ");
      io.micrometer.core.instrument.Counter counted = proxy.metrics().registry().find("meridian.upstream.failures")
          .tags("kind", "reused-closed").counter();
      assertThat(counted).isNotNull();
      assertThat(counted.count()).isEqualTo(1);
    }
  }

  /**
   * A pooled connection's backend that sent an interim 103 and then closed has begun answering: the
   * request is not sent again (the backend may be acting on it, and the client would get a second
   * try's 1xx too); the client gets the 103 and a 502.
   */
  @Test
  void aRequestWhose1xxReachedTheClientIsNotSentAgain() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          InputStream in = socket.getInputStream();
          OutputStream out = socket.getOutputStream();
          RawTcpBackend.readHead(in);
          requests.incrementAndGet();
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(US_ASCII));
          out.flush();
          RawTcpBackend.readHead(in);
          requests.incrementAndGet();
          out.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n".getBytes(US_ASCII));
          out.flush(); // then hang up without a final answer
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /a HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      client.send("DELETE /b HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse interim = client.readResponse();
      assertThat(interim.status()).isEqualTo(103);
      assertThat(client.readResponse().status()).isEqualTo(502);
      assertThat(requests.get()).as("the DELETE reached the backend once").isEqualTo(2);
    }
  }

  /**
   * A keep-alive client that waits past request-head-timeout before its next head's first byte and
   * then trickles the head (one byte per interval shorter than client-idle) still gets 408: the
   * deadline counts from the head's first byte. (A new connection has request-head-timeout from its
   * accept to send anything: ConnectionOpeningTest.)
   */
  @Test
  void headThatStartsLateAndTricklesStillGets408() throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          RawTcpBackend.readHead(socket.getInputStream());
          socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(US_ASCII));
          socket.getOutputStream().flush();
          RawTcpBackend.readHead(socket.getInputStream());
        });
        ForwardingProxy proxy = ForwardingProxy.to(backend.address())
            .set("limits.request-head-timeout = 500ms")
            .set("timeouts.client-idle = 2s").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /first HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      // The attacker's pacing doubles as a check: an idle keep-alive connection with no head begun is
      // neither answered nor closed past the head timeout (that is the idle timeout's business).
      assertThat(client.isClosedByPeer(Duration.ofMillis(700))).isFalse();
      assertThat(client.input().available()).isZero();
      byte[] head = "GET / HTTP/1.1\r\nHost: app.test\r\nX-Slow: ".getBytes(US_ASCII);
      for (int i = 0; i < 4; i++) { // 4 x 400ms = 1.6s: well past the 500ms head timeout
        try {
          client.send(new byte[] {head[i]});
        } catch (java.io.IOException closedByProxy) {
          break; // the 408 came and the proxy closed while the attacker was still trickling
        }
        if (client.input().available() > 0 || client.isClosedByPeer(Duration.ofMillis(400))) {
          break; // the 408 is there
        }
      }
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(408);
      assertThat(client.isClosedByPeer(Duration.ofSeconds(2))).isTrue();
    }
  }
}
