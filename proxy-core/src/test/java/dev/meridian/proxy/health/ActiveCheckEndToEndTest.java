package dev.meridian.proxy.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestBackend.Reply;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Active health checks end to end: a real proxy with checks every 100 ms against real backends, seen
 * from the client through {@code X-Meridian-Backend} and from the admin API.
 */
class ActiveCheckEndToEndTest {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final List<TestBackend> backends = new ArrayList<>();
  private MeridianInstance proxy;

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    backends.forEach(TestBackend::close);
  }

  /** A backend answering its name on every path and {@code health.get()} on /healthz. */
  private TestBackend backend(String name, AtomicInteger health, AtomicInteger failsServed, AtomicInteger passesServed) {
    TestBackend b = TestBackend.start(request -> {
      if (!request.uri().startsWith("/healthz")) {
        return Reply.ok(name);
      }
      int status = health.get();
      (status >= 500 ? failsServed : passesServed).incrementAndGet();
      return Reply.status(status);
    });
    backends.add(b);
    return b;
  }

  private void startProxy(String backendList, String active) throws Exception {
    String hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  backend-groups { app { backends = [ " + backendList + " ]\n"
        + "    health { active { " + active + " } } } }\n"
        + "  routes = [ { backend-group = \"app\" } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "active-check-test")).start();
  }

  private static String entry(String id, int port) {
    return "{ id = \"" + id + "\", address = \"127.0.0.1:" + port + "\" },\n";
  }

  /** Sends n GETs and counts the answering backends by X-Meridian-Backend; every answer must be 200. */
  private Map<String, Integer> spread(int n) throws Exception {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
              + proxy.listenerAddresses().get(0).getPort() + "/data")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("status of GET %d: %s", i, r.body()).isEqualTo(200);
      counts.merge(r.headers().firstValue("X-Meridian-Backend").orElse("?"), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void failingHealthPathTakesTheBackendOutAfterFallAndBackAfterRise() throws Exception {
    AtomicInteger healthA = new AtomicInteger(200);
    AtomicInteger healthB = new AtomicInteger(200);
    AtomicInteger failsB = new AtomicInteger();
    AtomicInteger passesB = new AtomicInteger();
    TestBackend a = backend("a", healthA, new AtomicInteger(), new AtomicInteger());
    TestBackend b = backend("b", healthB, failsB, passesB);
    startProxy(entry("a", a.port()) + entry("b", b.port()),
        "type = http, path = \"/healthz\", interval = 100ms, timeout = 1s, rise = 2, fall = 3");
    // Registry transitions, with how many failing / passing checks B had answered at that moment.
    List<String> transitions = new java.util.concurrent.CopyOnWriteArrayList<>();
    proxy.health("app").addListener((id, available) -> {
      if (id.equals("b")) {
        transitions.add((available ? "up after passes=" + passesB.get() : "down after fails=" + failsB.get()));
      }
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> passesB.get() >= 1);
    assertThat(spread(20)).containsEntry("a", 10).containsEntry("b", 10);

    healthB.set(500);
    await().atMost(Duration.ofSeconds(5)).until(() -> !AdminBackends.of(proxy).available("b"));
    assertThat(transitions).containsExactly("down after fails=3");
    assertThat(AdminBackends.of(proxy).outReasons("b"))
        .hasEntrySatisfying("active-check", reason -> assertThat(reason).contains("3 failed checks: status 500"));
    assertThat(spread(20)).containsOnlyKeys("a");

    int passesBefore = passesB.get();
    healthB.set(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> AdminBackends.of(proxy).available("b"));
    assertThat(transitions).containsExactly("down after fails=3", "up after passes=" + (passesBefore + 2));
    assertThat(spread(20)).containsEntry("a", 10).containsEntry("b", 10);
  }

  /**
   * One backend in two groups under the same id, checked on different paths: its health is each
   * group's own, so the group whose check fails stops using it while the other keeps it.
   */
  @Test
  void aBackendSharedByTwoGroupsHasItsOwnHealthInEach() throws Exception {
    TestBackend shared = TestBackend.start(request -> request.uri().startsWith("/broken")
        ? Reply.status(500) : Reply.ok("shared"));
    backends.add(shared);
    TestBackend spare = backend("spare", new AtomicInteger(200), new AtomicInteger(), new AtomicInteger());
    String list = entry("s", shared.port()) + entry("spare", spare.port());
    String hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  backend-groups {\n"
        + "    good { backends = [ " + list + " ], health { active { path = \"/ok\", interval = 100ms, fall = 2 } } }\n"
        + "    bad { backends = [ " + list + " ], health { active { path = \"/broken\", interval = 100ms, fall = 2 } } }\n"
        + "  }\n"
        + "  routes = [ { path-prefix = \"/good/\", backend-group = \"good\" }, { backend-group = \"bad\" } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "shared-backend-test")).start();

    await().atMost(Duration.ofSeconds(5)).until(() -> !proxy.health("bad").isAvailable("s"));
    assertThat(proxy.health("good").isAvailable("s")).isTrue();
    Map<String, Integer> good = new HashMap<>();
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + proxy.listenerAddresses().get(0).getPort() + "/good/x")).build(), HttpResponse.BodyHandlers.ofString());
      good.merge(r.headers().firstValue("X-Meridian-Backend").orElse("?"), 1, Integer::sum);
    }
    assertThat(good).containsEntry("s", 5).containsEntry("spare", 5);
    assertThat(spread(10)).containsOnlyKeys("spare");
  }

  @Test
  void tcpCheckAgainstAClosedPortKeepsThatBackendOut() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    TestBackend a = backend("a", new AtomicInteger(200), new AtomicInteger(), new AtomicInteger());
    startProxy(entry("a", a.port()) + entry("gone", closedPort),
        "type = tcp, interval = 100ms, timeout = 500ms, rise = 2, fall = 3, initial = unavailable");
    // Unavailable from the start, and it stays so over many checks.
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
        .until(() -> !AdminBackends.of(proxy).available("gone"));
    AdminBackends admin = AdminBackends.of(proxy);
    assertThat(admin.backend("gone").at("/active-check/last-reason").textValue()).startsWith("connect:");
    assertThat(admin.outReasons("gone")).containsKey("active-check");
    assertThat(admin.available("a")).isTrue();
    assertThat(spread(10)).containsOnlyKeys("a");
  }

  @Test
  void healthEndpointThatNeverAnswersTimesOutAndTakesTheBackendOut() throws Exception {
    TestBackend a = backend("a", new AtomicInteger(200), new AtomicInteger(), new AtomicInteger());
    TestBackend slow = TestBackend.start(request ->
        request.uri().startsWith("/healthz") ? Reply.never() : Reply.ok("slow"));
    backends.add(slow);
    startProxy(entry("a", a.port()) + entry("slow", slow.port()),
        "type = http, path = \"/healthz\", interval = 100ms, timeout = 300ms, rise = 2, fall = 3");
    await().atMost(Duration.ofSeconds(5)).until(() -> !AdminBackends.of(proxy).available("slow"));
    AdminBackends admin = AdminBackends.of(proxy);
    assertThat(admin.outReasons("slow"))
        .hasEntrySatisfying("active-check", reason -> assertThat(reason).contains("3 failed checks: timeout after 300 ms"));
    assertThat(spread(10)).containsOnlyKeys("a");
    // Each check gave up on its connection; the health requests did not pile up.
    await().atMost(Duration.ofSeconds(3)).until(() -> slow.openConnectionCount() <= 1);
  }
}
