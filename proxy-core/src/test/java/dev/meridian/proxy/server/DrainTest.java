package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawTcpBackend;
import dev.meridian.proxy.testing.TestBackend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link dev.meridian.proxy.MeridianInstance#stop(Duration)} stops accepting at once, lets the request in
 * flight finish with {@code Connection: close}, and closes idle client connections after a short grace.
 *
 * <p>The backend's answer is held back until the test has seen the listener refuse connections, so no
 * step depends on timing.
 */
class DrainTest {

  @Test
  void requestInFlightFinishesWithConnectionCloseWhileNewConnectionsAreRefused() throws Exception {
    try (Draining scene = new Draining()) {
      CompletableFuture<Boolean> stopped = scene.stop();

      assertThat(scene.idle.isClosedByPeer(Duration.ofSeconds(5)))
          .as("an idle keep-alive client connection is closed once the drain's grace is over").isTrue();
      assertThat(stopped).as("stop() waits for the request in flight").isNotDone();

      scene.release.complete(TestBackend.Reply.ok("slow answer"));
      RawHttpClient.RawResponse response = scene.busy.readResponse();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("slow answer");
      assertThat(response.header("connection")).isEqualToIgnoringCase("close");
      assertThat(scene.busy.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
      assertThat(stopped.get(10, TimeUnit.SECONDS)).as("drained within the drain timeout").isTrue();
    }
  }

  /**
   * A keep-alive client that sends its next request just as the drain starts (the listener already
   * closed) gets it answered, with {@code Connection: close}, rather than a reset: between requests a
   * connection is kept for the drain's grace, and only then closed if it stays idle.
   */
  @Test
  void aRequestSentOnAnIdleConnectionAsTheDrainStartsIsAnsweredWithConnectionClose() throws Exception {
    try (Draining scene = new Draining();
        RawHttpClient silent = RawHttpClient.connect(scene.proxy.port())) {
      CompletableFuture<Boolean> stopped = scene.stop();
      RawHttpClient.RawResponse next = scene.idle.send("GET /quick HTTP/1.1\r\nHost: test\r\n\r\n").readResponse();

      assertThat(next.status()).isEqualTo(200);
      assertThat(next.header("connection")).isEqualToIgnoringCase("close");
      assertThat(scene.idle.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
      assertThat(silent.isClosedByPeer(Duration.ofSeconds(5)))
          .as("a connection that never sent a request is closed after the grace").isTrue();
      assertThat(stopped).as("stop() still waits for the request in flight").isNotDone();
      scene.release.complete(TestBackend.Reply.ok("slow answer"));
      assertThat(scene.busy.readResponse().header("connection")).isEqualToIgnoringCase("close");
      assertThat(stopped.get(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * A response whose head left before the drain started (so without {@code Connection: close}) and
   * whose end came after it: its client may send the next request as soon as it has read it, so the
   * connection is kept for the drain's grace like any idle one and that request is answered, with
   * {@code Connection: close}. Before, the connection closed right after that response and the next
   * request met a closed connection.
   */
  @Test
  void aKeepAliveResponseThatEndsDuringTheDrainLeavesTheConnectionOpenForTheNextRequest() throws Exception {
    CompletableFuture<Void> headSent = new CompletableFuture<>();
    CompletableFuture<Void> rest = new CompletableFuture<>();
    AtomicInteger requests = new AtomicInteger();
    BackgroundStop stop = null;
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          InputStream in = socket.getInputStream();
          OutputStream out = socket.getOutputStream();
          while (true) {
            RawTcpBackend.readHead(in);
            if (requests.incrementAndGet() == 1) {
              out.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst".getBytes(US_ASCII));
              out.flush();
              headSent.complete(null);
              rest.get(10, TimeUnit.SECONDS);
              out.write("-half".getBytes(US_ASCII));
            } else {
              out.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext".getBytes(US_ASCII));
            }
            out.flush();
          }
        });
        ProxyFixture proxy = ProxyFixture.start(backend.port());
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET /first HTTP/1.1\r\nHost: test\r\n\r\n");
      headSent.get(5, TimeUnit.SECONDS);
      await("the response head reached the client").atMost(Duration.ofSeconds(5))
          .until(() -> client.input().available() > 0);

      stop = new BackgroundStop(proxy, Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(5)).until(() -> proxy.instance().proxy().isDraining());
      rest.complete(null);
      RawHttpClient.RawResponse first = client.readResponse();
      assertThat(first.bodyText()).isEqualTo("first-half");
      assertThat(first.header("connection")).as("its head left before the drain").isNull();

      RawHttpClient.RawResponse next = client.send("GET /next HTTP/1.1\r\nHost: test\r\n\r\n").readResponse();

      assertThat(next.status()).isEqualTo(200);
      assertThat(next.bodyText()).isEqualTo("next");
      assertThat(next.header("connection")).isEqualToIgnoringCase("close");
      assertThat(client.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
      assertThat(stop.stopped.get(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      rest.complete(null);
      if (stop != null) {
        stop.close();
      }
    }
  }

  /**
   * An HTTP/2 connection is drained in two GOAWAYs (RFC 9113 6.8): the first names the highest stream
   * id, so a stream the client opens as the drain starts is still served; the second, after the grace,
   * names the last stream served, and the connection closes.
   */
  @Test
  void anHttp2StreamOpenedAsTheDrainStartsIsServedBetweenTwoGoAways() throws Exception {
    try (Draining scene = new Draining();
        RawHttp2Client h2 = new RawHttp2Client(scene.proxy.port()).lenient()) {
      h2.get(1, "/quick");
      h2.readUntil(c -> c.ended(1));
      assertThat(h2.status(1)).isEqualTo("200");

      CompletableFuture<Boolean> stopped = scene.stop();
      h2.readUntil(c -> !c.goAwayLastStreams().isEmpty());
      assertThat(h2.goAwayLastStreams()).containsExactly(Integer.MAX_VALUE);
      h2.get(3, "/quick");
      h2.readUntil(c -> c.ended(3));
      assertThat(h2.status(3)).as("a stream opened after the first GOAWAY").isEqualTo("200");

      h2.readUntil(RawHttp2Client::closed);
      assertThat(h2.goAwayLastStreams()).containsExactly(Integer.MAX_VALUE, 3);
      assertThat(h2.goAwayError()).isZero();
      scene.release.complete(TestBackend.Reply.ok("slow answer"));
      assertThat(stopped.get(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * A request whose backend has not answered when the drain timeout passes is answered 503 with
   * Connection: close before its connection closes (over HTTP/2, on its stream), not left to a reset
   * the client would take for a network failure; a response already under way is cut off.
   */
  @Test
  void aRequestUnansweredWhenTheDrainTimeoutPassesIsAnswered503() throws Exception {
    CompletableFuture<TestBackend.Reply> never = new CompletableFuture<>();
    try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.when(never));
        ProxyFixture proxy = ProxyFixture.start(backend.port());
        RawHttpClient http1 = RawHttpClient.connect(proxy.port());
        RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      http1.send("GET /stalled HTTP/1.1\r\nHost: test\r\n\r\n");
      h2.get(1, "/stalled-too");
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests().size() == 2);

      assertThat(proxy.instance().stop(Duration.ofMillis(300))).as("the requests did not finish").isFalse();

      RawHttpClient.RawResponse answer = http1.readResponse();
      assertThat(answer.status()).isEqualTo(503);
      assertThat(answer.header("connection")).isEqualToIgnoringCase("close");
      assertThat(http1.isClosedByPeer(Duration.ofSeconds(5))).isTrue();
      h2.readUntil(c -> c.ended(1) || c.closed());
      assertThat(h2.status(1)).as("the HTTP/2 stream's answer").isEqualTo("503");
    } finally {
      never.complete(TestBackend.Reply.status(200));
    }
  }

  /** A proxy's stop (its drain) on a thread of its own, so a test can act while it drains. */
  private static final class BackgroundStop implements AutoCloseable {
    private final ExecutorService stopper = Executors.newSingleThreadExecutor();
    final CompletableFuture<Boolean> stopped;

    BackgroundStop(ProxyFixture proxy, Duration drainTimeout) {
      stopped = CompletableFuture.supplyAsync(() -> proxy.instance().stop(drainTimeout), stopper);
    }

    @Override
    public void close() {
      stopper.shutdownNow();
    }
  }

  /**
   * A proxy with two client connections: {@code idle} was answered and waits between requests,
   * {@code busy} waits for {@code /slow}, which the backend holds until {@link #release} completes.
   */
  private static final class Draining implements AutoCloseable {
    final CompletableFuture<TestBackend.Reply> release = new CompletableFuture<>();
    final TestBackend backend = TestBackend.start(request -> request.uri().equals("/slow")
        ? TestBackend.Reply.when(release) : TestBackend.Reply.ok("quick"));
    final ProxyFixture proxy;
    final RawHttpClient busy;
    final RawHttpClient idle;
    private BackgroundStop stop;

    Draining() throws Exception {
      proxy = ProxyFixture.start(backend.port());
      busy = RawHttpClient.connect(proxy.port());
      idle = RawHttpClient.connect(proxy.port());
      try {
        start();
      } catch (Exception | AssertionError e) {
        close();
        throw e;
      }
    }

    private void start() throws Exception {
      idle.send("GET /quick HTTP/1.1\r\nHost: test\r\n\r\n");
      assertThat(idle.readResponse().status()).isEqualTo(200);
      busy.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests().size() == 2);
    }

    /** Starts the drain (10 s timeout) on another thread; returns once the listener refuses connections. */
    CompletableFuture<Boolean> stop() {
      stop = new BackgroundStop(proxy, Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(5)).until(() -> refusesConnections(proxy.address()));
      return stop.stopped;
    }

    @Override
    public void close() throws Exception {
      release.complete(TestBackend.Reply.status(503));
      if (stop != null) {
        stop.close();
      }
      idle.close();
      busy.close();
      proxy.close();
      backend.close();
    }
  }

  /**
   * An HTTP/2 client that keeps its stream windows shut holds a response the drain cannot finish:
   * once the drain timeout passed, its connection is closed within a second, not after the codec's
   * graceful close has waited for the stalled stream (and then 5 s more, before this was fixed).
   */
  @Test
  void aStalledHttp2ClientIsClosedSoonAfterTheDrainTimeout() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("x".repeat(200_000)));
        ProxyFixture proxy = ProxyFixture.start(backend.port());
        RawHttp2Client h2 = new RawHttp2Client(proxy.port(), RawHttp2Client.setting(0x4, 0)).lenient()) {
      h2.get(1, "/big");
      h2.readUntil(c -> c.status(1) != null);
      long start = System.nanoTime();

      assertThat(proxy.instance().stop(Duration.ofMillis(300))).as("the stalled stream did not finish").isFalse();

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
      h2.readUntil(RawHttp2Client::closed);
      assertThat(h2.dataBytes(1)).as("nothing went past the shut window").isZero();
    }
  }

  /**
   * A WebSocket open when the drain starts is relayed on (Meridian cannot ask it to end: it does not
   * speak its protocol) until its client closes it; the drain ends then, well within its timeout.
   */
  @Test
  void anOpenTunnelIsRelayedUntilItClosesWithinTheDrainTimeout() throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          InputStream in = socket.getInputStream();
          RawTcpBackend.readHead(in);
          OutputStream out = socket.getOutputStream();
          out.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
              .getBytes(US_ASCII));
          out.flush();
          in.transferTo(out);
        });
        ProxyFixture proxy = ProxyFixture.start(backend.address().getPort());
        RawHttpClient ws = RawHttpClient.connect(proxy.port())) {
      ws.send("GET /chat HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
      assertThat(ws.readResponse().status()).isEqualTo(101);
      try (BackgroundStop stop = new BackgroundStop(proxy, Duration.ofSeconds(20))) {
        // Past the drain's grace for idle connections, the tunnel still carries bytes both ways.
        await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3)).until(() -> !stop.stopped.isDone());
        ws.send("still here");
        assertThat(new String(ws.readBytes(10), US_ASCII)).isEqualTo("still here");

        ws.socket().close();
        assertThat(stop.stopped.get(10, TimeUnit.SECONDS)).as("drained once the tunnel closed").isTrue();
      }
    }
  }

  /** Once the drain started, an upgrade goes to the backend as a plain request: no tunnel for the drain to wait on. */
  @Test
  void anUpgradeAskedForDuringTheDrainIsNotSwitched() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        ProxyFixture proxy = ProxyFixture.start(backend.port());
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET /first HTTP/1.1\r\nHost: test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      try (BackgroundStop stop = new BackgroundStop(proxy, Duration.ofSeconds(10))) {
        await().atMost(Duration.ofSeconds(5)).until(() -> refusesConnections(new InetSocketAddress("127.0.0.1", proxy.port())));
        client.send("GET /chat HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
        RawHttpClient.RawResponse answer = client.readResponse();
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.bodyText()).doesNotContainIgnoringCase("upgrade: websocket");
        assertThat(stop.stopped.get(10, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  @Test
  void stopWithNothingInFlightReturnsAtOnce() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("hi"));
        ProxyFixture proxy = ProxyFixture.start(backend.port())) {
      long start = System.nanoTime();

      assertThat(proxy.instance().stop(Duration.ofSeconds(10))).isTrue();

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      assertThat(refusesConnections(proxy.address())).isTrue();
    }
  }

  /** True if a TCP connect to {@code address} is refused; false if it is accepted. */
  private static boolean refusesConnections(InetSocketAddress address) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(address, 1_000);
      return false;
    } catch (ConnectException refused) {
      return true;
    }
  }
}
