package dev.meridian.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code /readyz} on the admin listener: 200 while the instance takes traffic, 503 from the moment
 * the drain starts while requests in flight finish (a load balancer's readiness check takes the
 * instance out); {@code /healthz} stays 200 (the process is alive).
 */
class ReadinessTest {
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> get(String base, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void readinessFailsOnceTheDrainStartsWhileHealthStaysUp() throws Exception {
    CompletableFuture<TestBackend.Reply> release = new CompletableFuture<>();
    try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.when(release))) {
      MeridianInstance proxy = new MeridianInstance(SettingsLoader.parse("""
          meridian {
            listeners = [ { name = "web", address = "127.0.0.1:0" } ]
            admin { address = "127.0.0.1:0" }
            backend-groups { app { backends = [ { address = "127.0.0.1:%d" } ] } }
            routes = [ { backend-group = "app" } ]
          }
          """.formatted(backend.port()), "readiness-test")).start();
      String admin = "http://127.0.0.1:" + proxy.adminAddress().getPort();
      String web = "http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort();
      try {
        assertThat(get(admin, "/readyz").statusCode()).isEqualTo(200);
        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
            HttpRequest.newBuilder(URI.create(web + "/held")).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests().size() == 1);
        CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(() -> proxy.stop(Duration.ofSeconds(10)));

        await().atMost(Duration.ofSeconds(5)).until(() -> get(admin, "/readyz").statusCode() == 503);
        assertThat(get(admin, "/readyz").body()).isEqualTo("draining\n");
        assertThat(get(admin, "/healthz").statusCode()).isEqualTo(200);
        assertThat(stopped).as("the drain waits for the request in flight").isNotDone();

        release.complete(TestBackend.Reply.ok("done"));
        assertThat(inFlight.get(10, TimeUnit.SECONDS).body()).isEqualTo("done");
        assertThat(stopped.get(10, TimeUnit.SECONDS)).isTrue();
      } finally {
        release.complete(TestBackend.Reply.status(503));
        proxy.stop(Duration.ZERO);
      }
    }
  }
}
