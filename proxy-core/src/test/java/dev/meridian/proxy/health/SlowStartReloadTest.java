package dev.meridian.proxy.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.ManualClock;
import dev.meridian.proxy.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Slow start for a backend a reload adds: it is the coldest backend of all, so it ramps up over
 * {@code slow-start} like one returning from an ejection (Envoy's slow start targets new hosts).
 * Timed on the injected clock.
 */
class SlowStartReloadTest {
  private final ManualClock clock = new ManualClock();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final TestBackend a = TestBackend.start(TestBackend.ok("a"));
  private final TestBackend b = TestBackend.start(TestBackend.ok("b"));
  private final TestBackend added = TestBackend.start(TestBackend.ok("added"));
  private MeridianInstance proxy;

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    a.close();
    b.close();
    added.close();
  }

  private static String config(TestBackend... backends) {
    StringBuilder list = new StringBuilder();
    for (TestBackend backend : backends) {
      list.append(list.length() == 0 ? "" : ", ").append("{ address = \"127.0.0.1:").append(backend.port()).append("\" }");
    }
    return "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { enabled = false }\n"
        + "  backend-groups { app { strategy = round-robin, health { slow-start = 60s },"
        + " backends = [ " + list + "] } }\n"
        + "  routes = [ { backend-group = app } ]\n"
        + "}\n";
  }

  private Map<String, Integer> spread(int requests) throws Exception {
    Map<String, Integer> byBackend = new HashMap<>();
    URI uri = URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/");
    for (int i = 0; i < requests; i++) {
      String body = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
      byBackend.merge(body, 1, Integer::sum);
    }
    return byBackend;
  }

  @Test
  void aBackendAReloadAddsRampsUpOverSlowStart() throws Exception {
    proxy = new MeridianInstance(SettingsLoader.parse(config(a, b), "slow-start-test"), clock).start();
    assertThat(spread(40)).as("backends there from the start take their share at once")
        .containsOnlyKeys("a", "b");

    proxy.proxy().reload(SettingsLoader.parse(config(a, b, added), "slow-start-test"));

    assertThat(spread(150)).as("at the ramp's start").doesNotContainKey("added");
    clock.advance(Duration.ofSeconds(30));
    assertThat(spread(300).getOrDefault("added", 0)).as("half way: some of its share").isBetween(10, 95);
    clock.advance(Duration.ofSeconds(30));
    assertThat(spread(300).get("added")).as("after slow-start: its whole share").isBetween(90, 110);
  }
}
