package dev.meridian.proxy.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.BackendProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A region dies under load, as in production: its backend processes are killed with SIGKILL while
 * eight keep-alive clients send GETs from that region. Every GET must get a 200 (a healthy fallback
 * region exists), none may be left unanswered, and nothing may stay in flight afterwards.
 */
class RegionKillTest {
  private static final org.slf4j.Logger REPORT = org.slf4j.LoggerFactory.getLogger(RegionKillTest.class);

  private static final int CLIENTS = 8;
  /** Longer than connect timeout x attempts + response timeout: a GET still waiting by then was stranded. */
  private static final Duration CLIENT_DEADLINE = Duration.ofSeconds(8);

  private final Map<String, BackendProcess> backends = new LinkedHashMap<>();
  private MeridianInstance proxy;
  private ExecutorService pool;

  /** One GET as the client saw it: a status, or -1 and the error (a timeout means it was never answered). */
  private record Outcome(long doneAt, int status, String backend, String decision, String error, boolean unanswered) {}

  @AfterEach
  void stop() throws InterruptedException {
    if (pool != null) {
      pool.shutdownNow();
    }
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    for (BackendProcess b : backends.values()) {
      b.close();
    }
  }

  private void startProxy(String strategy) throws Exception {
    StringBuilder list = new StringBuilder();
    backends.forEach((id, b) -> list.append(String.format(
        "{ id = \"%s\", address = \"127.0.0.1:%d\", region = \"%s\" },%n", id, b.port(), id.substring(0, id.lastIndexOf('-')))));
    String hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
        + "  timeouts { connect = 1s, response-headers = 3s }\n"
        + "  backend-groups { fo {\n"
        + "    strategy = \"" + strategy + "\"\n"
        + "    backends = [\n" + list + "]\n"
        + "    regions { failover { eu-west = [eu-west, us-east], default = [us-east, eu-west] } }\n"
        + "    health { active { path = \"/healthz\", interval = 500ms, rise = 2, fall = 2 } }\n"
        + "  } }\n"
        + "  routes = [ { name = \"fo\", backend-group = \"fo\", retries { attempts = 2 } } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "region-kill-test")).start();
  }

  /** Runs the clients until {@code running} turns false, collecting every outcome. */
  private List<Future<?>> startClients(ConcurrentLinkedQueue<Outcome> outcomes, AtomicBoolean running) {
    URI uri = URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/data");
    pool = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      clients.add(pool.submit(() -> {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
        while (running.get()) {
          HttpRequest request = HttpRequest.newBuilder(uri).timeout(CLIENT_DEADLINE)
              .header("X-Client-Region", "eu-west").build();
          try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            outcomes.add(new Outcome(System.nanoTime(), r.statusCode(),
                r.headers().firstValue("X-Meridian-Backend").orElse(""),
                r.headers().firstValue("X-Meridian-Decision").orElse(""),
                r.statusCode() == 200 ? null : r.body(), false));
          } catch (HttpTimeoutException e) {
            outcomes.add(new Outcome(System.nanoTime(), -1, "", "", e.toString(), true));
          } catch (Exception e) {
            outcomes.add(new Outcome(System.nanoTime(), -1, "", "", e.toString(), false));
          }
        }
        return null;
      }));
    }
    return clients;
  }

  private void awaitFor(Duration d) {
    long until = System.nanoTime() + d.toNanos();
    await().atMost(d.plusSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> System.nanoTime() >= until);
  }

  private void startBackends(String... ids) throws Exception {
    for (String id : ids) {
      backends.put(id, BackendProcess.start(id));
    }
  }

  private static String summary(List<Outcome> all) {
    Map<String, Long> byKind = all.stream().collect(Collectors.groupingBy(
        o -> o.status() > 0 ? Integer.toString(o.status()) : o.unanswered() ? "unanswered" : "error",
        TreeMap::new, Collectors.counting()));
    Map<String, Long> errors = all.stream().filter(o -> o.status() != 200)
        .collect(Collectors.groupingBy(o -> o.error() + " [" + o.decision() + "]", TreeMap::new, Collectors.counting()));
    return byKind + " " + errors;
  }

  private void assertNothingInFlight() {
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(AdminBackends.of(proxy).inFlight()).as("requests in flight per backend").allSatisfy(
            (id, n) -> assertThat(n).as(id).isZero()));
  }

  /**
   * The scenario: eu-west (2 backends) is the preferred region of eu-west clients, us-east (1)
   * the fallback. Both eu-west processes are killed after 2 s; every GET must still get a 200.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"round-robin", "peak-ewma", "least-request", "weighted"})
  void killingTheClientsRegionLosesNoGet(String strategy) throws Exception {
    startBackends("eu-west-1", "eu-west-2", "us-east-1");
    startProxy(strategy);
    ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Future<?>> clients = startClients(outcomes, running);

    awaitFor(Duration.ofSeconds(2));
    int beforeKill = outcomes.size();
    backends.get("eu-west-1").kill();
    backends.get("eu-west-2").kill();
    long killedAt = System.nanoTime();
    awaitFor(Duration.ofSeconds(3));
    running.set(false);
    for (Future<?> f : clients) {
      f.get();
    }

    List<Outcome> all = new ArrayList<>(outcomes);
    long afterKillFromUsEast = all.stream().filter(o -> o.doneAt() > killedAt && o.backend().equals("us-east-1")).count();
    REPORT.info("region kill ({}): {} GETs ({} before the kill), {} served by us-east after it; {}",
        strategy, all.size(), beforeKill, afterKillFromUsEast, summary(all));
    assertThat(all.stream().filter(Outcome::unanswered).count()).as("unanswered GETs: " + summary(all)).isZero();
    assertThat(all.stream().filter(o -> o.status() != 200).count()).as("failed GETs: " + summary(all)).isZero();
    assertThat(beforeKill).isGreaterThan(50);
    assertThat(afterKillFromUsEast).isGreaterThan(50);
    assertNothingInFlight();
  }

  /**
   * Both regions die; GETs get 502/503 (never silence) while none is up, and once us-east is back
   * they succeed again with nothing stranded.
   */
  @Test
  void bothRegionsKilledThenOneRestartedStrandsNothing() throws Exception {
    startBackends("eu-west-1", "eu-west-2", "us-east-1");
    startProxy("round-robin");
    ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Future<?>> clients = startClients(outcomes, running);

    awaitFor(Duration.ofSeconds(1));
    for (BackendProcess b : backends.values()) {
      b.kill();
    }
    awaitFor(Duration.ofSeconds(2));
    backends.put("us-east-1", backends.get("us-east-1").restart());
    long restartedAt = System.nanoTime();
    await().atMost(Duration.ofSeconds(10)).until(() -> outcomes.stream()
        .anyMatch(o -> o.doneAt() > restartedAt && o.status() == 200));
    awaitFor(Duration.ofMillis(2500));
    running.set(false);
    for (Future<?> f : clients) {
      f.get();
    }

    List<Outcome> all = new ArrayList<>(outcomes);
    long firstOk = all.stream().filter(o -> o.doneAt() > restartedAt && o.status() == 200)
        .mapToLong(Outcome::doneAt).min().orElseThrow();
    // Recovered: from the first 200 on, active checks (rise 2 x 500 ms) need at most ~1 s to agree.
    List<Outcome> afterRecovery = all.stream().filter(o -> o.doneAt() > firstOk + 1_500_000_000L).toList();
    REPORT.info("both regions killed, us-east restarted: {} GETs; first 200 {} ms after the restart; {}",
        all.size(), (firstOk - restartedAt) / 1_000_000, summary(all));
    assertThat(afterRecovery).isNotEmpty().allMatch(o -> o.status() == 200);
    assertThat(all.stream().filter(Outcome::unanswered).count()).as("unanswered GETs: " + summary(all)).isZero();
    assertThat(all.stream().filter(o -> o.status() != 200 && o.status() != 502 && o.status() != 503).count())
        .as("outcomes other than 200, 502 and 503: " + summary(all)).isZero();
    assertNothingInFlight();
  }
}
