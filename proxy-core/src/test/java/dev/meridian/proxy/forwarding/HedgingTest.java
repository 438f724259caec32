package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.InvalidConfigException;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.Http2TestBackend;
import dev.meridian.proxy.testing.RegionalBackends;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestBackend.Reply;
import io.micrometer.core.instrument.Counter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hedged requests ({@code routes[].hedge}) end to end, with a backend per region on 127.0.0.1: a slow
 * region's requests are answered by the next region's backend within the hedge delay plus its own
 * time; the first answer wins and the other attempt's connection is closed; non-idempotent requests
 * are never hedged; and the retry budget caps hedges when every region is slow.
 */
class HedgingTest {
  private RegionalBackends backends;
  private MeridianInstance proxy;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private void start(Map<String, Duration> delays, String hedge, String retries) throws Exception {
    start(region -> request -> Reply.ok(region + " " + request.method() + " " + request.bodyText())
        .delay(delays.get(region)), hedge, retries);
  }

  /** Starts a backend in eu-west and one in us-east, each answering as {@code responder} makes for its region. */
  private void start(java.util.function.Function<String, TestBackend.Responder> responder, String hedge,
      String retries) throws Exception {
    backends = RegionalBackends.start(List.of("eu-west", "us-east"), responder);
    String hocon = "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
        + "  backend-groups { app { strategy = \"round-robin\", backends = [\n" + backends.hoconList() + "]\n"
        + "    regions { failover { eu-west = [eu-west, us-east], us-east = [us-east, eu-west] } } } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\", hedge { " + hedge + " } "
        + retries + " } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "hedging-test")).start();
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    if (backends != null) {
      backends.close();
    }
  }

  private HttpRequest request(String method, String body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/data"))
        .timeout(Duration.ofSeconds(20)).header("X-Client-Region", "eu-west")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private double hedges(String outcome) {
    Counter c = proxy.proxy().metrics().registry().find("meridian.hedges").tags("route", "all", "outcome", outcome)
        .counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void aSlowRegionsRequestsAreAnsweredByTheNextRegionWithinTheHedgeDelay() throws Exception {
    start(Map.of("eu-west", Duration.ofSeconds(6), "us-east", Duration.ofMillis(5)),
        "after = 50ms, to = next-region", "");
    List<String> millis = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      long start = System.nanoTime();
      HttpResponse<String> response = client.send(request("GET", null), HttpResponse.BodyHandlers.ofString());
      millis.add((System.nanoTime() - start) / 1_000_000 + " ms: "
          + response.headers().firstValue("X-Meridian-Decision").orElse(""));
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("us-east GET ");
      assertThat(response.headers().firstValue("X-Meridian-Backend")).hasValue("us-east-1");
      assertThat(response.headers().firstValue("X-Meridian-Decision").orElse(""))
          .contains("hedged to us-east-1").contains("the hedge answered first");
    }
    // A PUT is idempotent: hedged with its body.
    HttpResponse<String> put = client.send(request("PUT", "the-body"), HttpResponse.BodyHandlers.ofString());
    assertThat(put.body()).isEqualTo("us-east PUT the-body");
    // Without hedging every answer would take 6 s: each is bounded by the delay plus the fast backend
    // (with room for a loaded machine).
    assertThat(millis).allSatisfy(line -> assertThat(Long.parseLong(line.substring(0, line.indexOf(' '))))
        .as(line).isLessThan(2500));
    assertThat(hedges("sent")).isEqualTo(11);
    assertThat(hedges("won")).isEqualTo(11);
    // The slow attempts were cancelled: their connections closed, long before the backend would answer.
    await().atMost(Duration.ofSeconds(2)).until(() -> backends.get("eu-west").openConnectionCount() == 0);
    assertThat(backends.get("eu-west").requests()).hasSize(11);
  }

  @Test
  void aPercentileDelayFollowsTheRoutesOwnLatencies() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean slow = new java.util.concurrent.atomic.AtomicBoolean();
    start(region -> region.equals("eu-west")
        ? request -> Reply.ok("eu-west").delay(Duration.ofMillis(slow.get() ? 3000 : 10))
        : request -> Reply.ok("us-east").delay(Duration.ofMillis(slow.get() ? 5 : 300)), "after = p95", "");
    // A second of fast answers to measure (a hedge of the slowest 5% loses to them while us-east is slow).
    long measuredFrom = System.nanoTime();
    int fast = 0;
    while (fast < 30 || System.nanoTime() - measuredFrom < 1_200_000_000L) {
      assertThat(client.send(request("GET", null), HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("eu-west");
      fast++;
    }
    slow.set(true);
    long start = System.nanoTime();
    HttpResponse<String> response = client.send(request("GET", null), HttpResponse.BodyHandlers.ofString());
    assertThat(response.body()).isEqualTo("us-east");
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1500);
    assertThat(response.headers().firstValue("X-Meridian-Decision").orElse("")).containsPattern("after \\d+ms");
  }

  @Test
  void aPostIsNeverHedged() throws Exception {
    start(Map.of("eu-west", Duration.ofMillis(600), "us-east", Duration.ofMillis(5)), "after = 50ms", "");
    HttpResponse<String> post = client.send(request("POST", "once"), HttpResponse.BodyHandlers.ofString());
    assertThat(post.body()).isEqualTo("eu-west POST once");
    assertThat(backends.get("us-east").requests()).isEmpty();
    assertThat(hedges("sent")).isZero();
  }

  @Test
  void whenTheFirstAttemptAnswersFirstTheHedgeIsCancelled() throws Exception {
    start(Map.of("eu-west", Duration.ofMillis(400), "us-east", Duration.ofSeconds(5)), "after = 50ms", "");
    long start = System.nanoTime();
    HttpResponse<String> response = client.send(request("GET", null), HttpResponse.BodyHandlers.ofString());
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(3000);
    assertThat(response.body()).isEqualTo("eu-west GET ");
    TestBackend hedged = backends.get("us-east");
    assertThat(hedged.requests()).as("the hedge went out").hasSize(1);
    await().atMost(Duration.ofSeconds(2)).until(() -> hedged.openConnectionCount() == 0);
    assertThat(hedges("sent")).isEqualTo(1);
    assertThat(hedges("won")).isZero();
  }

  @Test
  void aFirstAttemptThatFailsLeavesTheRequestToItsHedgeWithoutARetry() throws Exception {
    start(region -> region.equals("eu-west")
        ? request -> Reply.reset().delay(Duration.ofMillis(300))
        : request -> Reply.ok("us-east").delay(Duration.ofMillis(600)), "after = 50ms", "");
    HttpResponse<String> response = client.send(request("GET", null), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("us-east");
    // A retry would have sent the request to us-east a second time.
    assertThat(backends.get("us-east").requests()).hasSize(1);
    assertThat(proxy.proxy().metrics().registry().find("meridian.retries").counters()).isEmpty();
    assertThat(hedges("won")).isEqualTo(1);
  }

  @Test
  void anHttp2ClientsStreamsAreHedgedOneByOne() throws Exception {
    assumeThat(Http2CleartextTest.installed("nghttp")).as("nghttp is installed by .ci/run").isTrue();
    start(Map.of("eu-west", Duration.ofSeconds(5), "us-east", Duration.ofMillis(5)), "after = 50ms", "");
    long start = System.nanoTime();
    String out = Http2CleartextTest.run(List.of("nghttp", "-n", "-s", "-m", "4", "-H", "X-Client-Region: eu-west",
        "http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/h2"));
    assertThat((System.nanoTime() - start) / 1_000_000).as(out).isLessThan(3000);
    assertThat(hedges("won")).isEqualTo(4);
    assertThat(backends.get("us-east").requests()).hasSize(4);
    await().atMost(Duration.ofSeconds(2)).until(() -> backends.get("eu-west").openConnectionCount() == 0);
  }

  @Test
  void aHedgeToAnHttp2BackendResetsTheLosingStreamAndKeepsItsConnection() throws Exception {
    try (Http2TestBackend stalled = Http2TestBackend.start(null, 100).stalling();
        Http2TestBackend fast = Http2TestBackend.start(null, 100)) {
      String hocon = "meridian {\n"
          + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
          + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
          + "  backend-groups { app { protocol = h2c, backends = [\n"
          + "    { id = \"eu-1\", address = \"127.0.0.1:" + stalled.address().getPort() + "\", region = eu-west }\n"
          + "    { id = \"us-1\", address = \"127.0.0.1:" + fast.address().getPort() + "\", region = us-east } ]\n"
          + "    regions { failover { eu-west = [eu-west, us-east] } } } }\n"
          + "  routes = [ { name = \"all\", backend-group = \"app\", hedge { after = 50ms } } ]\n"
          + "}\n";
      proxy = new MeridianInstance(SettingsLoader.parse(hocon, "hedging-h2-test")).start();
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> response = client.send(request("GET", null), HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("hello h2");
      }
      // Each slow attempt was a stream on one connection: the stream is reset, the connection kept.
      await().atMost(Duration.ofSeconds(5)).until(() -> stalled.resetsReceived() == 3);
      assertThat(stalled.connections()).isEqualTo(1);
      assertThat(hedges("won")).isEqualTo(3);
    }
  }

  @Test
  void aSecondHedgeGoesToABackendNoEarlierAttemptUsed() throws Exception {
    try (TestBackend eu = TestBackend.start(request -> Reply.ok("eu-1").delay(Duration.ofSeconds(5)));
        TestBackend slowUs = TestBackend.start(request -> Reply.ok("us-1").delay(Duration.ofSeconds(5)));
        TestBackend fastUs = TestBackend.start(request -> Reply.ok("us-2").delay(Duration.ofMillis(5)))) {
      String hocon = "meridian {\n"
          + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
          + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
          + "  backend-groups { app { strategy = round-robin, backends = [\n"
          + "    { id = eu-1, address = \"127.0.0.1:" + eu.port() + "\", region = eu-west }\n"
          + "    { id = us-1, address = \"127.0.0.1:" + slowUs.port() + "\", region = us-east }\n"
          + "    { id = us-2, address = \"127.0.0.1:" + fastUs.port() + "\", region = us-east } ]\n"
          + "    regions { failover { eu-west = [eu-west, us-east] } } } }\n"
          + "  routes = [ { name = \"all\", backend-group = \"app\", hedge { after = 100ms, max = 2 } } ]\n"
          + "}\n";
      proxy = new MeridianInstance(SettingsLoader.parse(hocon, "hedging-max-test")).start();
      for (int i = 0; i < 4; i++) {
        long start = System.nanoTime();
        HttpResponse<String> response = client.send(request("GET", null), HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).isEqualTo("us-2");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(2000);
      }
      // Every first attempt went to eu-1; a first hedge that went to the slow us-1 was followed by a
      // second to us-2 (never back to eu-1 or us-1).
      assertThat(eu.requests()).hasSize(4);
      assertThat(slowUs.requests()).isNotEmpty();
      assertThat(hedges("sent")).isEqualTo(4 + slowUs.requests().size());
      assertThat(hedges("won")).isEqualTo(4);
    }
  }

  @Test
  void theRetryBudgetCapsHedgesWhenEveryRegionIsSlow() throws Exception {
    start(Map.of("eu-west", Duration.ofMillis(400), "us-east", Duration.ofMillis(400)), "after = 20ms",
        ", retries { budget = 10%, min-per-second = 0 }");
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      all.add(client.sendAsync(request("GET", null), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : all) {
      assertThat(f.get().statusCode()).isEqualTo(200);
    }
    // 10% of 40 requests: at most 4 hedges; every other timer found the budget spent.
    assertThat(hedges("sent")).isBetween(1.0, 4.0);
    assertThat(hedges("sent") + hedges("budget")).isEqualTo(40);
    int toBackends = backends.get("eu-west").requests().size() + backends.get("us-east").requests().size();
    assertThat(toBackends).isLessThanOrEqualTo(44);
  }

  @Test
  void badHedgeSettingsAreRefusedWithTheirKey() {
    String hocon = "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:1\" } ] } }\n"
        + "  routes = [ { backend-group = \"app\", hedge { after = soon, max = 9, to = elsewhere } } ]\n"
        + "}\n";
    InvalidConfigException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidConfigException.class,
        () -> SettingsLoader.parse(hocon, "hedge.conf"));
    assertThat(e.getMessage()).contains("hedge.conf: 4: meridian.routes[0].hedge.after")
        .contains("p95").contains("meridian.routes[0].hedge.max").contains("meridian.routes[0].hedge.to");
  }
}
