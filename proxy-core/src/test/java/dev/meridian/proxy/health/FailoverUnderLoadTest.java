package dev.meridian.proxy.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestBackend.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Failover under load, end to end: three regions on 127.0.0.1, four client threads sending GETs
 * without pause, and every backend of the preferred region killed mid-stream. Not one GET may fail;
 * the test prints how long traffic took to leave the dead region.
 */
class FailoverUnderLoadTest {
  private static final org.slf4j.Logger REPORT = org.slf4j.LoggerFactory.getLogger(FailoverUnderLoadTest.class);

  private static final int CLIENTS = 4;
  private static final Duration WARM_UP = Duration.ofMillis(1500);
  private static final Duration AFTER_KILL = Duration.ofMillis(3500);

  private final Map<String, TestBackend> backends = new LinkedHashMap<>();
  private MeridianInstance proxy;
  private ExecutorService pool;

  /** One GET as the client saw it. */
  private record Outcome(long doneAt, int status, String backend, String decision, String error) {}

  @AfterEach
  void stop() {
    if (pool != null) {
      pool.shutdownNow();
    }
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    backends.values().forEach(TestBackend::close);
  }

  private void startBackend(String id) {
    backends.put(id, TestBackend.start(request ->
        request.uri().startsWith("/healthz") ? Reply.status(200) : Reply.ok(id)));
  }

  private void startProxy(String passive) throws Exception {
    StringBuilder list = new StringBuilder();
    backends.forEach((id, b) -> list.append(String.format("{ id = \"%s\", address = \"127.0.0.1:%d\", region = \"%s\" },%n",
        id, b.port(), id.substring(0, id.lastIndexOf('-')))));
    String hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  backend-groups { app {\n"
        + "    backends = [\n" + list + "]\n"
        + "    regions { failover { default = [us-east, eu-west, ap-south] } }\n"
        + "    health { active { path = \"/healthz\", interval = 100ms, timeout = 500ms, rise = 2, fall = 2 }\n"
        + "      " + passive + " }\n"
        + "  } }\n"
        + "  routes = [ { backend-group = \"app\", retries { attempts = 2, on = [connect-failure, reset-before-response] } } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "failover-under-load-test")).start();
  }

  /**
   * With passive detection on (the default), three refused connects eject a dead backend at once; with
   * it out of reach, only the active checks (every 100 ms, fall 2) take the region out, and retries
   * carry every GET over the gap.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"passive and active", "active only"})
  void killingThePreferredRegionMidStreamFailsNoGet(String detection) throws Exception {
    for (String id : List.of("us-east-1", "us-east-2", "eu-west-1", "ap-south-1")) {
      startBackend(id);
    }
    startProxy(detection.equals("active only")
        ? "passive { consecutive-5xx = 1000000, consecutive-gateway-failures = 1000000 }" : "");
    Map<String, Long> markedOutAt = new ConcurrentHashMap<>();
    Map<String, String> markedOutBy = new ConcurrentHashMap<>();
    proxy.health("app").addListener((id, available) -> {
      if (!available) {
        markedOutAt.putIfAbsent(id, System.nanoTime());
        markedOutBy.putIfAbsent(id, String.valueOf(proxy.health("app").reasons(id)));
      }
    });

    URI uri = URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/data");
    ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    AtomicBoolean running = new AtomicBoolean(true);
    pool = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      clients.add(pool.submit(() -> {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
        while (running.get()) {
          try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
            outcomes.add(new Outcome(System.nanoTime(), r.statusCode(),
                r.headers().firstValue("X-Meridian-Backend").orElse(""),
                r.headers().firstValue("X-Meridian-Decision").orElse(""),
                r.statusCode() == 200 ? null : r.body()));
          } catch (Exception e) {
            outcomes.add(new Outcome(System.nanoTime(), -1, "", "", e.toString()));
          }
        }
        return null;
      }));
    }

    AtomicLong served = new AtomicLong();
    await().atMost(Duration.ofSeconds(10)).until(() -> outcomes.size() >= 200);
    long warmUntil = System.nanoTime() + WARM_UP.toNanos();
    await().atMost(WARM_UP.plusSeconds(5)).until(() -> System.nanoTime() >= warmUntil);
    int beforeKill = outcomes.size();
    long killAt = System.nanoTime();
    // Removed from the map first: TestBackend.close() hangs when called a second time.
    backends.remove("us-east-1").close();
    backends.remove("us-east-2").close();
    long killedBy = System.nanoTime();
    long stopAt = killAt + AFTER_KILL.toNanos();
    await().atMost(AFTER_KILL.plusSeconds(5)).until(() -> System.nanoTime() >= stopAt);
    running.set(false);
    for (Future<?> f : clients) {
      f.get();
    }

    List<Outcome> all = new ArrayList<>(outcomes);
    List<Outcome> failed = all.stream().filter(o -> o.status() != 200).toList();
    List<Outcome> afterKill = all.stream().filter(o -> o.doneAt() > killedBy).toList();
    // After the kill, a response whose decision does not say us-east is unhealthy was picked (first
    // try) while the proxy still believed in us-east, and reached eu-west by a retry.
    List<Outcome> retriedOut = afterKill.stream()
        .filter(o -> !o.decision().endsWith(": unhealthy") && !o.backend().startsWith("us-east")).toList();
    long lastBelieving = retriedOut.stream()
        .mapToLong(Outcome::doneAt).max().orElse(killAt);
    long bothOut = Math.max(markedOutAt.getOrDefault("us-east-1", Long.MAX_VALUE),
        markedOutAt.getOrDefault("us-east-2", Long.MAX_VALUE));
    long retried = retriedOut.size();
    Map<String, Long> byBackend = new LinkedHashMap<>();
    afterKill.forEach(o -> byBackend.merge(o.backend(), 1L, Long::sum));
    served.set(all.size());
    REPORT.info(String.format("failover under load (%s): %d GETs (%d before the kill, %d after), %d failed;"
            + " kill took %d ms; us-east marked out %d ms after the kill (%s); last response picked while"
            + " us-east was believed up: %d ms after the kill (%d such responses, all retried elsewhere);"
            + " after the kill by backend: %s",
        detection, all.size(), beforeKill, afterKill.size(), failed.size(), (killedBy - killAt) / 1_000_000,
        (bothOut - killAt) / 1_000_000, markedOutBy, (lastBelieving - killAt) / 1_000_000, retried, byBackend));

    assertThat(failed).as("failed GETs").isEmpty();
    assertThat(beforeKill).isGreaterThan(100);
    // Only replies a us-east backend wrote while it was being closed (at most one per client) may follow the kill.
    assertThat(afterKill).isNotEmpty();
    assertThat(afterKill.stream().filter(o -> o.backend().startsWith("us-east")).count()).isLessThanOrEqualTo(CLIENTS);
    assertThat(markedOutAt).containsKeys("us-east-1", "us-east-2");
    assertThat(byBackend).containsKey("eu-west-1").doesNotContainKey("ap-south-1");
    // Active checks every 100 ms with fall = 2 (or three gateway failures) take the region out quickly.
    assertThat((bothOut - killAt) / 1_000_000).isLessThan(1_000);
    assertThat(AdminBackends.of(proxy).available("us-east-1")).isFalse();
  }
}
