package dev.meridian.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.HealthView;
import dev.meridian.balancer.NanoClock;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ActiveHealthCheckerTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static EventLoopGroup loops;

  private final HealthRegistry registry = new HealthRegistry();
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final CountDownLatch releaseSlowHandlers = new CountDownLatch(1);

  @BeforeAll
  static void startLoops() {
    loops = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  }

  @AfterAll
  static void stopLoops() {
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @AfterEach
  void closeAll() throws Exception {
    releaseSlowHandlers.countDown();
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  /** A health endpoint on 127.0.0.1:0 whose status, body and headers a test changes at will. */
  final class HealthServer implements AutoCloseable {
    final AtomicInteger status = new AtomicInteger(200);
    final AtomicReference<String> body = new AtomicReference<>("ok");
    final AtomicReference<String> lag = new AtomicReference<>();
    final AtomicInteger served = new AtomicInteger();
    final AtomicReference<String> lastHost = new AtomicReference<>();
    final AtomicReference<String> lastMethod = new AtomicReference<>();
    final AtomicReference<String> lastProbe = new AtomicReference<>();
    volatile boolean slow;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();

    HealthServer() throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.setExecutor(executor);
      server.createContext("/healthz", this::handle);
      server.start();
      toClose.add(this);
    }

    private void handle(HttpExchange exchange) throws IOException {
      lastHost.set(exchange.getRequestHeaders().getFirst("Host"));
      lastMethod.set(exchange.getRequestMethod());
      lastProbe.set(exchange.getRequestHeaders().getFirst("X-Probe"));
      if (slow) {
        try {
          releaseSlowHandlers.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
      if (lag.get() != null) {
        exchange.getResponseHeaders().set("X-Replication-Lag", lag.get());
      }
      int code = status.get();
      served.incrementAndGet();
      exchange.sendResponseHeaders(code, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }

    Backend backend(String id) {
      return new Backend(id, "127.0.0.1", server.getAddress().getPort(), "us-east", 1);
    }

    @Override
    public void close() {
      server.stop(0);
      executor.shutdownNow();
    }
  }

  private static ActiveCheckSettings http(int rise, int fall, Duration timeout, boolean initiallyAvailable,
      Optional<String> bodyContains, Optional<String> lagHeader) {
    return new ActiveCheckSettings("http", "/healthz", 200, 399, bodyContains, Optional.empty(),
        Duration.ofMillis(50), null, timeout, rise, fall, initiallyAvailable, lagHeader, Duration.ofSeconds(5),
        0, "GET", Map.of());
  }

  private static ActiveCheckSettings http(int rise, int fall) {
    return http(rise, fall, Duration.ofSeconds(1), true, Optional.empty(), Optional.empty());
  }

  private ActiveHealthChecker start(BackendGroup group, ActiveCheckSettings settings, OutlierDetector outliers) {
    ActiveHealthChecker checker = new ActiveHealthChecker(group, settings, registry, outliers, loops,
        NioSocketChannel.class);
    toClose.add(0, checker);
    checker.start();
    return checker;
  }

  @Test
  void failingHealthPathMarksBackendOutAfterFallAndBackAfterRise() throws Exception {
    HealthServer server = new HealthServer();
    Backend b1 = server.backend("b1");
    ActiveHealthChecker checker = start(new BackendGroup("app", List.of(b1)), http(2, 3), null);
    await().atMost(WAIT).until(() -> server.served.get() >= 2);
    assertThat(registry.isAvailable(b1)).isTrue();
    assertThat(server.lastHost.get()).isEqualTo(b1.authority());

    int servedBeforeFailing = server.served.get();
    server.status.set(500);
    await().atMost(WAIT).until(() -> !registry.isAvailable(b1));
    assertThat(server.served.get() - servedBeforeFailing).isGreaterThanOrEqualTo(3);
    assertThat(registry.reasons("b1").get(ActiveHealthChecker.OWNER))
        .isEqualTo("3 failed checks: status 500 (expected: 200-399)");
    ActiveHealthChecker.CheckStatus down = checker.statuses().get(0);
    assertThat(down.up()).isFalse();
    assertThat(down.lastResult()).isEqualTo(ActiveHealthChecker.Result.FAIL);
    assertThat(down.consecutiveFailures()).isGreaterThanOrEqualTo(3);

    int servedBeforeRecovering = server.served.get();
    server.status.set(204);
    await().atMost(WAIT).until(() -> registry.isAvailable(b1));
    assertThat(server.served.get() - servedBeforeRecovering).isGreaterThanOrEqualTo(2);
    ActiveHealthChecker.CheckStatus up = checker.statuses().get(0);
    assertThat(up.up()).isTrue();
    assertThat(up.lastReason()).isEqualTo("status 204");
    assertThat(up.lastCheckTook()).isPresent();
  }

  /**
   * A check on a management port (the backend's own port refuses here), with HEAD and a header of the
   * operator's: the backend stays available on what the management port answers.
   */
  @Test
  void checksAnotherPortWithTheMethodAndHeadersGiven() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    HealthServer management = new HealthServer();
    Backend b1 = new Backend("b1", "127.0.0.1", closedPort, "us-east", 1);
    ActiveCheckSettings d = http(1, 1);
    ActiveCheckSettings settings = new ActiveCheckSettings("http", "/healthz", 200, 399, Optional.empty(),
        Optional.empty(), d.interval(), null, d.timeout(), 1, 1, false, Optional.empty(), Duration.ofSeconds(5),
        management.backend("m").port(), "HEAD", Map.of("X-Probe", "meridian"));
    start(new BackendGroup("app", List.of(b1)), settings, null);

    await().atMost(WAIT).until(() -> registry.isAvailable(b1));
    assertThat(management.lastMethod.get()).isEqualTo("HEAD");
    assertThat(management.lastProbe.get()).isEqualTo("meridian");
    assertThat(management.lastHost.get()).as("the Host is still the backend's").isEqualTo(b1.authority());
  }

  @Test
  void badPortMethodOrHeadersAreRefused() {
    ActiveCheckSettings d = ActiveCheckSettings.DEFAULTS;
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ActiveCheckSettings("http", "/", 200, 399,
        Optional.of("ok"), Optional.empty(), d.interval(), null, d.timeout(), 1, 1, true, Optional.empty(),
        Duration.ofSeconds(5), 0, "HEAD", Map.of())).hasMessageContaining("a HEAD answer has no body");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ActiveCheckSettings("http", "/", 200, 399,
        Optional.empty(), Optional.empty(), d.interval(), null, d.timeout(), 1, 1, true, Optional.empty(),
        Duration.ofSeconds(5), 70000, "GET", Map.of())).hasMessageContaining("port: 70000");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ActiveCheckSettings("http", "/", 200, 399,
        Optional.empty(), Optional.empty(), d.interval(), null, d.timeout(), 1, 1, true, Optional.empty(),
        Duration.ofSeconds(5), 0, "GET", Map.of("Content-Length", "5"))).hasMessageContaining("Content-Length");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ActiveCheckSettings("http", "/", 200, 399,
        Optional.empty(), Optional.empty(), d.interval(), null, d.timeout(), 1, 1, true, Optional.empty(),
        Duration.ofSeconds(5), 0, "GET", Map.of("X-A", "b\r\nX-Evil: 1"))).hasMessageContaining("control");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ActiveCheckSettings("http", "/", 200, 399,
        Optional.empty(), Optional.empty(), d.interval(), null, d.timeout(), 1, 1, true, Optional.empty(),
        Duration.ofSeconds(5), 0, "GET", Map.of("X-L", " lead"))).hasMessageContaining("whitespace");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ActiveCheckSettings("http", "/hc\r\nX-Inj: 1", 200,
        399, Optional.empty(), Optional.empty(), d.interval(), null, d.timeout(), 1, 1, true, Optional.empty(),
        Duration.ofSeconds(5), 0, "GET", Map.of())).hasMessageContaining("path:");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ActiveCheckSettings("http", "/", 200, 399,
        Optional.empty(), Optional.of("h\r\nX-Host-Inj: 1"), d.interval(), null, d.timeout(), 1, 1, true,
        Optional.empty(), Duration.ofSeconds(5), 0, "GET", Map.of())).hasMessageContaining("host:");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ActiveCheckSettings("tcp", "", 200, 399,
        Optional.empty(), Optional.empty(), d.interval(), null, d.timeout(), 1, 1, true, Optional.empty(),
        Duration.ofSeconds(5), 0, "GET", Map.of("X-Probe", "1"))).hasMessageContaining("tcp check does not send");
  }

  @Test
  void tcpCheckAgainstClosedPortMarksOut() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    HealthServer server = new HealthServer();
    Backend open = server.backend("open");
    Backend closed = new Backend("closed", "127.0.0.1", closedPort, "us-east", 1);
    ActiveCheckSettings tcp = new ActiveCheckSettings("tcp", "", 200, 399, Optional.empty(), Optional.empty(),
        Duration.ofMillis(50), null, Duration.ofSeconds(1), 2, 3, true, Optional.empty(), Duration.ofSeconds(5),
        0, "GET", Map.of());
    ActiveHealthChecker checker = start(new BackendGroup("app", List.of(open, closed)), tcp, null);

    await().atMost(WAIT).until(() -> !registry.isAvailable(closed));
    assertThat(registry.reasons("closed").get("active-check")).startsWith("3 failed checks: connect: ");
    await().atMost(WAIT).until(() -> checker.statuses().get(0).consecutivePasses() >= 3);
    assertThat(registry.isAvailable(open)).isTrue();
    assertThat(checker.statuses().get(0).lastReason()).isEqualTo("connected");
  }

  @Test
  void slowHealthEndpointTimesOut() throws Exception {
    HealthServer server = new HealthServer();
    server.slow = true;
    Backend b1 = server.backend("b1");
    start(new BackendGroup("app", List.of(b1)),
        http(1, 1, Duration.ofMillis(100), true, Optional.empty(), Optional.empty()), null);

    await().atMost(WAIT).until(() -> !registry.isAvailable(b1));
    assertThat(registry.reasons("b1").get("active-check")).isEqualTo("1 failed check: timeout after 100 ms");
  }

  @Test
  void bodyMustContainTheExpectedText() throws Exception {
    HealthServer server = new HealthServer();
    server.body.set("{\"status\":\"degraded\"}");
    Backend b1 = server.backend("b1");
    start(new BackendGroup("app", List.of(b1)),
        http(1, 2, Duration.ofSeconds(1), true, Optional.of("\"status\":\"up\""), Optional.empty()), null);

    await().atMost(WAIT).until(() -> !registry.isAvailable(b1));
    assertThat(registry.reasons("b1").get("active-check")).contains("body lacks");

    server.body.set("{\"status\":\"up\"}");
    await().atMost(WAIT).until(() -> registry.isAvailable(b1));
  }

  @Test
  void initiallyUnavailableBackendJoinsOnItsFirstPass() throws Exception {
    HealthServer healthy = new HealthServer();
    HealthServer failing = new HealthServer();
    failing.status.set(503);
    Backend good = healthy.backend("good");
    Backend bad = failing.backend("bad");
    ActiveHealthChecker checker = start(new BackendGroup("app", List.of(good, bad)),
        http(3, 3, Duration.ofSeconds(1), false, Optional.empty(), Optional.empty()), null);
    assertThat(registry.isAvailable(good)).as("out before any check").isFalse();
    assertThat(registry.isAvailable(bad)).isFalse();

    await().atMost(WAIT).until(() -> registry.isAvailable(good));
    await().atMost(WAIT).until(() -> checker.statuses().get(1).consecutiveFailures() >= 3);
    assertThat(registry.isAvailable(bad)).isFalse();
    assertThat(registry.reasons("bad").get("active-check")).isEqualTo("waiting for the first passing check");
  }

  @Test
  void replicationLagIsReadAndLaggingBackendIsSkippedForReadsOnly() throws Exception {
    HealthServer behind = new HealthServer();
    HealthServer current = new HealthServer();
    behind.lag.set("7.5");
    current.lag.set("0.2");
    Backend lagging = behind.backend("lagging");
    Backend fresh = current.backend("fresh");
    ActiveCheckSettings settings =
        http(2, 3, Duration.ofSeconds(1), true, Optional.empty(), Optional.of("X-Replication-Lag"));
    ActiveHealthChecker checker = start(new BackendGroup("app", List.of(lagging, fresh)), settings, null);
    HealthView reads = registry.readView(settings.maxReplicationLag());

    await().atMost(WAIT).until(() -> registry.replicationLag("lagging").isPresent()
        && registry.replicationLag("fresh").isPresent());
    assertThat(registry.replicationLag("lagging")).contains(Duration.ofMillis(7500));
    assertThat(checker.statuses().get(1).replicationLag()).contains(Duration.ofMillis(200));
    assertThat(reads.isAvailable(lagging)).isFalse();
    assertThat(registry.isAvailable(lagging)).as("still used for writes").isTrue();
    assertThat(reads.isAvailable(fresh)).isTrue();

    behind.lag.set("1");
    await().atMost(WAIT).until(() -> reads.isAvailable(lagging));
  }

  @Test
  void passingCheckReturnsPassivelyEjectedBackendEarly() throws Exception {
    HealthServer server = new HealthServer();
    Backend b1 = server.backend("b1");
    Backend b2 = new Backend("b2", "127.0.0.1", 1, "us-east", 1);
    BackendGroup group = new BackendGroup("app", List.of(b1, b2));
    OutlierDetector outliers = new OutlierDetector(group, registry,
        new PassiveSettings(5, 3, Duration.ofSeconds(30), Duration.ofSeconds(300), 50, 0, Duration.ofSeconds(30), true),
        null, NanoClock.SYSTEM);
    for (int i = 0; i < 5; i++) {
      outliers.onResponse(b1, 503);
    }
    assertThat(registry.isAvailable(b1)).isFalse();

    start(new BackendGroup("app", List.of(b1)), http(2, 3), outliers);
    await().atMost(WAIT).until(() -> registry.isAvailable(b1));
    assertThat(outliers.isEjected(b1)).isFalse();
  }

  @Test
  void closeStopsChecksAndWithdrawsMarks() throws Exception {
    HealthServer server = new HealthServer();
    server.status.set(500);
    Backend b1 = server.backend("b1");
    ActiveHealthChecker checker = start(new BackendGroup("app", List.of(b1)), http(2, 1), null);
    await().atMost(WAIT).until(() -> !registry.isAvailable(b1));

    checker.close();
    await().atMost(WAIT).until(() -> registry.isAvailable(b1));
    int served = server.served.get();
    await().pollDelay(Duration.ofMillis(300)).atMost(WAIT).until(() -> true);
    assertThat(server.served.get()).isLessThanOrEqualTo(served + 1);
  }

  @Test
  void aCheckerTakesOverItsBackendsAtTheSameAddressAndStartsOverForAnIdThatMoved() throws Exception {
    HealthServer failing = new HealthServer();
    failing.status.set(500);
    HealthServer healthy = new HealthServer();
    Backend stays = failing.backend("stays");
    Backend moves = failing.backend("moves");
    ActiveHealthChecker before = start(new BackendGroup("app", List.of(stays, moves)), http(2, 1), null);
    await().atMost(WAIT).until(() -> !registry.isAvailable(stays) && !registry.isAvailable(moves));

    // A reload: "stays" keeps its address, "moves" now points at a healthy server.
    Backend moved = healthy.backend("moves");
    ActiveHealthChecker after = new ActiveHealthChecker(new BackendGroup("app", List.of(failing.backend("stays"),
        moved)), http(2, 1), registry, null, loops, NioSocketChannel.class);
    toClose.add(0, after);
    after.takeOver(before);
    after.start();
    assertThat(registry.isAvailable(moved)).as("the old address's down mark is not the new one's").isTrue();
    assertThat(registry.isAvailable(stays)).as("a backend that stays keeps its state").isFalse();
    before.close();

    int served = healthy.served.get();
    await().atMost(WAIT).until(() -> healthy.served.get() >= served + 3);
    assertThat(registry.isAvailable(moved)).isTrue();
    assertThat(registry.isAvailable(stays)).as("the old checker, closed, left the marks it handed over").isFalse();
    assertThat(after.statuses()).filteredOn(c -> c.backendId().equals("moves")).singleElement()
        .satisfies(c -> assertThat(c.lastResult()).isEqualTo(ActiveHealthChecker.Result.PASS));
  }

  @Test
  void parsesReplicationLagSeconds() {
    assertThat(ActiveHealthChecker.parseLag("2")).isEqualTo(Duration.ofSeconds(2));
    assertThat(ActiveHealthChecker.parseLag(" 0.350 ")).isEqualTo(Duration.ofMillis(350));
    assertThat(ActiveHealthChecker.parseLag("-1")).isNull();
    assertThat(ActiveHealthChecker.parseLag("soon")).isNull();
    assertThat(ActiveHealthChecker.parseLag(null)).isNull();
  }
}
