package dev.meridian.proxy.steering;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import io.micrometer.core.instrument.Counter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A backend that answers every request 500 at once, beside two that answer in 20 ms, under peak EWMA
 * with the default passive health (5xx not counted): it drew all the traffic, since a failure at once
 * looked like the fastest answer (a black hole). A 5xx counts as a slow answer now, so it draws little;
 * and /metrics names the backend that returns the 5xx.
 */
class FastFailingBackendTest {
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<TestBackend> backends = new java.util.ArrayList<>();
  private MeridianInstance proxy;

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    backends.forEach(TestBackend::close);
  }

  @Test
  void aBackendThatFailsAtOnceDrawsLittleTrafficUnderPeakEwma() throws Exception {
    for (int i = 0; i < 2; i++) {
      backends.add(TestBackend.start(request -> TestBackend.Reply.ok("good").delay(Duration.ofMillis(20))));
    }
    backends.add(TestBackend.start(request -> TestBackend.Reply.status(500).body("broken")));
    StringBuilder list = new StringBuilder();
    String[] ids = {"good-1", "good-2", "bad"};
    for (int i = 0; i < 3; i++) {
      list.append("{ id = \"").append(ids[i]).append("\", address = \"127.0.0.1:").append(backends.get(i).port()).append("\" }\n");
    }
    proxy = new MeridianInstance(SettingsLoader.parse("meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  backend-groups { app { strategy = \"peak-ewma\", backends = [\n" + list + "] } }\n"
        + "  routes = [ { name = \"all\", backend-group = \"app\" } ]\n"
        + "}\n", "fast-failing")).start();
    int failed = 0;
    int requests = 150;
    for (int i = 0; i < requests; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + proxy.listenerAddresses().get(0).getPort() + "/x")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 500) {
        failed++;
      }
    }
    assertThat(failed).as("requests the failing backend answered, of " + requests).isLessThan(requests / 5);
    Counter fives = proxy.proxy().metrics().registry().find("meridian.upstream.5xx")
        .tags("group", "app", "backend", "bad", "status", "500").counter();
    assertThat(fives).isNotNull();
    assertThat(fives.count()).as("counted per backend, as clients saw them").isEqualTo(failed);
  }
}
