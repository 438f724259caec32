package dev.meridian.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RegionalBackends;
import dev.meridian.proxy.testing.TestBackend.Reply;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TrustingSsl;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus metrics as an operator scrapes them: a real {@link MeridianInstance} in front of real
 * backends, real clients (HTTP/1.1, h2c with prior knowledge, TLS), and {@code GET /metrics} on the
 * admin listener parsed from the text format. Each sample is looked up by its name and its exact label
 * set; every value asserted is the number the test's own traffic must have produced.
 */
class ProxyMetricsEndToEndTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private MeridianInstance proxy;

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    while (!resources.isEmpty()) {
      resources.pop().close();
    }
  }

  // ---- requests by route -------------------------------------------------------------------

  @Test
  void requestsAreCountedByRouteAndStatusClassWithTheirDurationsAndBodyBytes() throws Exception {
    TestBackend api = backend(request -> request.method().equals("POST")
        ? Reply.status(200).body(request.body())
        : Reply.ok("hello, world"));
    TestBackend failing = backend(TestBackend.status(503));
    start(listener() + group("api", api) + group("failing", failing)
        + "routes = [ { name = \"api\", path-prefix = \"/api\", backend-group = \"api\" }\n"
        + "  { name = \"fail\", path-prefix = \"/fail\", backend-group = \"failing\" } ]\n");

    long bodyBytesSent = 0;
    long bodyBytesReceived = 0;
    for (int i = 0; i < 3; i++) {
      RawResponse get = send("GET /api/items/" + i + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(get.status()).isEqualTo(200);
      assertThat(get.bodyText()).isEqualTo("hello, world");
      bodyBytesReceived += get.body().length;
    }
    for (String body : List.of("hello", "a longer body: 29 bytes long")) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      RawResponse post = send("POST /api/items HTTP/1.1\r\nHost: app.test\r\nContent-Length: " + bytes.length
          + "\r\n\r\n" + body);
      assertThat(post.status()).isEqualTo(200);
      assertThat(post.bodyText()).isEqualTo(body);
      bodyBytesSent += bytes.length;
      bodyBytesReceived += post.body().length;
    }
    assertThat(send("GET /fail HTTP/1.1\r\nHost: app.test\r\n\r\n").status()).isEqualTo(503);
    assertThat(send("GET /nowhere HTTP/1.1\r\nHost: app.test\r\n\r\n").status()).isEqualTo(404);

    long sent = bodyBytesSent;
    long received = bodyBytesReceived;
    await().atMost(WAIT).untilAsserted(() -> {
      Scrape metrics = scrape();
      assertThat(metrics.value("meridian_requests_total", "route", "api", "status", "2xx")).isEqualTo(5);
      assertThat(metrics.value("meridian_requests_total", "route", "fail", "status", "5xx")).isEqualTo(1);
      assertThat(metrics.value("meridian_requests_total", "route", "none", "status", "4xx")).isEqualTo(1);
      assertThat(metrics.value("meridian_request_duration_seconds_count", "route", "api")).isEqualTo(5);
      assertThat(metrics.value("meridian_request_bytes_total", "route", "api")).isEqualTo(sent);
      assertThat(metrics.value("meridian_response_bytes_total", "route", "api")).isEqualTo(received);
      // Each request came on a connection of its own here, but the upstream connection is pooled:
      // connected at least once, never more often than the requests sent there.
      assertThat(metrics.value("meridian_upstream_connect_seconds_count", "backend", "api-1")).isBetween(1.0, 5.0);
      assertThat(metrics.value("meridian_upstream_connect_seconds_bucket", "backend", "api-1", "le", "+Inf"))
          .isEqualTo(metrics.value("meridian_upstream_connect_seconds_count", "backend", "api-1"));
    });
    Scrape metrics = scrape();
    for (String statusClass : List.of("1xx", "3xx", "4xx", "5xx")) {
      assertThat(metrics.value("meridian_requests_total", "route", "api", "status", statusClass))
          .as("api %s", statusClass).isZero();
    }
    assertThat(metrics.value("meridian_requests_total", "route", "fail", "status", "2xx")).isZero();
    assertThat(metrics.value("meridian_request_duration_seconds_count", "route", "fail")).isEqualTo(1);
    assertThat(metrics.value("meridian_request_duration_seconds_sum", "route", "api")).isPositive();
    assertThat(metrics.value("meridian_requests_in_flight")).isZero();
    // The process's bound on backend connections, and the pooled connections held under it.
    long descriptors = dev.meridian.proxy.transport.DescriptorLimit.get().orElse(-1);
    if (descriptors > 0) {
      assertThat(metrics.value("meridian_upstream_connections_max")).isEqualTo(Math.max(16, (descriptors - 256) / 2));
    }
    assertThat(metrics.value("meridian_upstream_connections_open")).isPositive();

    // The histogram: the fixed buckets, cumulative, the last (+Inf) holding every request.
    List<Sample> buckets = metrics.samples("meridian_request_duration_seconds_bucket").stream()
        .filter(s -> "api".equals(s.labels().get("route"))).toList();
    assertThat(buckets).allSatisfy(b -> assertThat(b.labels().keySet()).containsExactlyInAnyOrder("route", "le"));
    TreeSet<Double> bounds = buckets.stream().map(b -> Scrape.parseValue(b.labels().get("le")))
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(buckets).hasSize(bounds.size());
    assertThat(bounds).containsExactly(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            Double.POSITIVE_INFINITY);
    List<Double> cumulative = buckets.stream()
        .sorted((a, b) -> Double.compare(Scrape.parseValue(a.labels().get("le")),
            Scrape.parseValue(b.labels().get("le"))))
        .map(Sample::value).toList();
    assertThat(cumulative).isSorted();
    assertThat(metrics.value("meridian_request_duration_seconds_bucket", "route", "api", "le", "+Inf"))
        .isEqualTo(5);
  }

  // ---- retries -----------------------------------------------------------------------------

  @Test
  void aConnectFailureRetriedOnAnotherBackendIsCountedByItsReason() throws Exception {
    int refusing = closedPort();
    TestBackend good = backend(TestBackend.ok("fine"));
    start(listener()
        + "backend-groups { app { strategy = round-robin, backends = [\n"
        + "  { id = \"refusing\", address = \"127.0.0.1:" + refusing + "\" }\n"
        + "  { id = \"good\", address = \"127.0.0.1:" + good.port() + "\" } ] } }\n"
        + "routes = [ { name = \"retrying\", path-prefix = \"/\", backend-group = \"app\","
        + " retries { on = [connect-failure] } } ]\n");

    // Round robin gives each backend one of two consecutive turns; the refusing one is then ejected
    // (eject-on-connect-refused) and never tried again: exactly one connect failure, retried.
    for (int i = 0; i < 2; i++) {
      RawResponse response = send("GET /" + i + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("fine");
    }
    assertThat(good.requests()).hasSize(2);

    await().atMost(WAIT).untilAsserted(() -> {
      Scrape metrics = scrape();
      assertThat(metrics.value("meridian_retries_total", "route", "retrying", "reason", "connect-failure"))
          .isEqualTo(1);
      assertThat(metrics.value("meridian_requests_total", "route", "retrying", "status", "2xx")).isEqualTo(2);
    });
    Scrape metrics = scrape();
    assertThat(metrics.value("meridian_upstream_failures_total", "group", "app", "backend", "refusing", "kind", "connect-refused"))
        .isEqualTo(1);
    assertThat(metrics.value("meridian_retry_budget_exhausted_total", "route", "retrying")).isZero();
    assertThat(metrics.samples("meridian_retries_total")).extracting(s -> s.labels().get("reason"))
        .containsExactly("connect-failure");
  }

  @Test
  void aRetriedStatusIsCountedAndARetryRefusedByAnEmptyBudgetIsCountedAsExhausted() throws Exception {
    TestBackend unavailable = backend(TestBackend.status(503));
    TestBackend healthy = backend(TestBackend.ok("fine"));
    TestBackend alsoUnavailable = backend(TestBackend.status(503));
    TestBackend thirdUnavailable = backend(TestBackend.status(503)); // a status is retried only when another backend could take it
    start(listener()
        + "backend-groups {\n"
        + "  mixed { strategy = round-robin, backends = [ { id = \"unavailable\", address = \"127.0.0.1:"
        + unavailable.port() + "\" }, { id = \"healthy\", address = \"127.0.0.1:" + healthy.port() + "\" } ] }\n"
        + "  failing { backends = [ { id = \"failing\", address = \"127.0.0.1:" + alsoUnavailable.port() + "\" },"
        + " { id = \"failing-too\", address = \"127.0.0.1:" + thirdUnavailable.port() + "\" } ] }\n"
        + "}\n"
        + "routes = [\n"
        // Budget 0% with no minimum per second: max(0 x requests, 0 x 10 s) = 0 retries allowed.
        + "  { name = \"no-budget\", path-prefix = \"/no-budget\", backend-group = \"failing\","
        + "    retries { attempts = 2, on = [connect-failure, reset-before-response, 503], budget = 0%,"
        + "      min-per-second = 0 } }\n"
        + "  { name = \"budgeted\", path-prefix = \"/\", backend-group = \"mixed\","
        + "    retries { attempts = 1, on = [connect-failure, reset-before-response, 503] } } ]\n");

    for (int i = 0; i < 3; i++) {
      assertThat(send("GET /no-budget/" + i + " HTTP/1.1\r\nHost: app.test\r\n\r\n").status()).isEqualTo(503);
    }
    assertThat(alsoUnavailable.requests().size() + thirdUnavailable.requests().size()).as("never retried")
        .isEqualTo(3);
    // Two requests, two turns of round robin: at least one goes to the 503 backend first and is
    // retried on the healthy one; each request the 503 backend saw is one retry.
    for (int i = 0; i < 2; i++) {
      RawResponse response = send("GET /" + i + " HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("fine");
    }
    int retried = unavailable.requests().size();
    assertThat(retried).isBetween(1, 2);
    assertThat(healthy.requests()).hasSize(2);

    await().atMost(WAIT).untilAsserted(() -> {
      Scrape metrics = scrape();
      assertThat(metrics.value("meridian_retry_budget_exhausted_total", "route", "no-budget")).isEqualTo(3);
      assertThat(metrics.value("meridian_requests_total", "route", "no-budget", "status", "5xx")).isEqualTo(3);
      assertThat(metrics.value("meridian_requests_total", "route", "budgeted", "status", "2xx")).isEqualTo(2);
    });
    Scrape metrics = scrape();
    // A status retry is counted as reason "status" (what UpstreamAttempts/ResponseRelay pass).
    assertThat(metrics.value("meridian_retries_total", "route", "budgeted", "reason", "status")).isEqualTo(retried);
    assertThat(metrics.value("meridian_retry_budget_exhausted_total", "route", "budgeted")).isZero();
    assertThat(metrics.samples("meridian_retries_total"))
        .as("a refused retry is not a retry")
        .noneMatch(s -> "no-budget".equals(s.labels().get("route")) && s.value() > 0);
  }

  /**
   * {@code retries.on} lists the conditions retried; a 5xx status listed without both named
   * conditions must be retried too (reference.conf: "what is retried: connect-failure,
   * reset-before-response and 5xx statuses such as 502, 503, 504").
   */
  @Test
  void aStatusListedAloneInRetriesOnIsRetriedAndCounted() throws Exception {
    TestBackend unavailable = backend(TestBackend.status(503));
    TestBackend healthy = backend(TestBackend.ok("fine"));
    start(listener()
        + "backend-groups { mixed { strategy = round-robin, backends = [ { id = \"unavailable\", address = \"127.0.0.1:"
        + unavailable.port() + "\" }, { id = \"healthy\", address = \"127.0.0.1:" + healthy.port() + "\" } ] } }\n"
        + "routes = [ { name = \"only-503\", path-prefix = \"/\", backend-group = \"mixed\","
        + " retries { attempts = 1, on = [503] } } ]\n");

    for (int i = 0; i < 2; i++) {
      assertThat(send("GET /" + i + " HTTP/1.1\r\nHost: app.test\r\n\r\n").status()).as("GET %d", i).isEqualTo(200);
    }
    int retried = unavailable.requests().size();
    await().atMost(WAIT).untilAsserted(() -> assertThat(
        scrape().value("meridian_retries_total", "route", "only-503", "reason", "status")).isEqualTo(retried));
  }

  // ---- backends and regions ----------------------------------------------------------------

  @Test
  void backendLoadAndRegionMetersFollowTrafficAndTheDial() throws Exception {
    RegionalBackends regional = RegionalBackends.start(List.of("us-east", "eu-west"),
        region -> request -> Reply.ok(region).delay(Duration.ofMillis(2)));
    resources.push(regional);
    start(listener()
        + "geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
        + "backend-groups { app { backends = [\n" + regional.hoconList() + "] } }\n"
        + "routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n");

    Scrape before = scrape();
    for (String region : List.of("us-east", "eu-west")) {
      assertThat(before.value("meridian_region_dial_percent", "group", "app", "region", region)).isEqualTo(100);
      assertThat(before.value("meridian_region_requests_total", "group", "app", "region", region)).isZero();
      assertThat(before.value("meridian_backend_ewma_seconds", "group", "app", "backend", region + "-1",
          "region", region)).as("no sample yet").isNaN();
    }

    Map<String, Integer> sent = new LinkedHashMap<>();
    sent.put("eu-west", 3);
    sent.put("us-east", 2);
    for (Map.Entry<String, Integer> e : sent.entrySet()) {
      for (int i = 0; i < e.getValue(); i++) {
        RawResponse response = send("GET /data HTTP/1.1\r\nHost: app.test\r\nX-Client-Region: " + e.getKey()
            + "\r\n\r\n");
        assertThat(response.bodyText()).isEqualTo(e.getKey());
      }
    }

    await().atMost(WAIT).untilAsserted(() -> {
      Scrape metrics = scrape();
      for (Map.Entry<String, Integer> e : sent.entrySet()) {
        String region = e.getKey();
        assertThat(metrics.value("meridian_region_requests_total", "group", "app", "region", region))
            .as(region).isEqualTo(e.getValue().doubleValue());
      }
      assertThat(metrics.value("meridian_requests_in_flight")).isZero();
    });
    Scrape metrics = scrape();
    for (String region : sent.keySet()) {
      Map<String, String> backend = Map.of("group", "app", "backend", region + "-1", "region", region);
      assertThat(metrics.value("meridian_backend_ewma_seconds", backend)).as(region).isPositive();
      assertThat(metrics.value("meridian_backend_in_flight", backend)).as(region).isZero();
      assertThat(metrics.value("meridian_region_errors_total", "group", "app", "region", region)).isZero();
      assertThat(metrics.value("meridian_region_panic", "group", "app", "region", region)).isZero();
    }

    HttpResponse<String> dial = http.send(HttpRequest.newBuilder(adminUri(
            "/admin/api/regions/app/eu-west/dial?percent=0"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(dial.statusCode()).as(dial.body()).isEqualTo(200);
    Scrape dialled = scrape();
    assertThat(dialled.value("meridian_region_dial_percent", "group", "app", "region", "eu-west")).isZero();
    assertThat(dialled.value("meridian_region_dial_percent", "group", "app", "region", "us-east")).isEqualTo(100);
    assertThat(dialled.value("meridian_region_panic", "group", "app", "region", "eu-west")).isZero();

    // Traffic for eu-west now goes to us-east, and is counted there.
    assertThat(send("GET /data HTTP/1.1\r\nHost: app.test\r\nX-Client-Region: eu-west\r\n\r\n").bodyText())
        .isEqualTo("us-east");
    await().atMost(WAIT).untilAsserted(() -> {
      Scrape now = scrape();
      assertThat(now.value("meridian_region_requests_total", "group", "app", "region", "us-east")).isEqualTo(3);
      assertThat(now.value("meridian_region_requests_total", "group", "app", "region", "eu-west")).isEqualTo(3);
    });
  }

  // ---- client connections and HTTP/2 streams -------------------------------------------------

  @Test
  void connectionsAreCountedOnceEachAndAnHttp2ConnectionOnceWhateverItsStreams() throws Exception {
    AtomicReference<CompletableFuture<Reply>> answer = new AtomicReference<>(new CompletableFuture<>());
    TestBackend backend = backend(request -> request.uri().startsWith("/held")
        ? Reply.when(answer.get()) : Reply.ok("at once"));
    start(listener() + group("app", backend)
        + "routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n");
    Scrape initial = scrape();
    assertThat(initial.value("meridian_client_connections_accepted_total")).isZero();
    assertThat(initial.value("meridian_client_connections")).isZero();
    assertThat(initial.value("meridian_http2_streams_total")).isZero();

    for (int i = 0; i < 3; i++) {
      try (RawHttpClient client = RawHttpClient.connect(port())) {
        client.send("GET /once HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
        assertThat(client.isClosedByPeer()).isTrue();
      }
    }
    await().atMost(WAIT).untilAsserted(() -> {
      Scrape metrics = scrape();
      assertThat(metrics.value("meridian_client_connections_accepted_total")).isEqualTo(3);
      assertThat(metrics.value("meridian_client_connections")).isZero();
      assertThat(metrics.value("meridian_requests_total", "route", "all", "status", "2xx")).isEqualTo(3);
    });

    try (RawHttp2Client h2 = new RawHttp2Client(port()).lenient()) {
      int[] streams = {1, 3, 5, 7};
      for (int stream : streams) {
        h2.get(stream, "/held/" + stream);
      }
      await().atMost(WAIT).untilAsserted(() ->
          assertThat(scrape().value("meridian_requests_in_flight")).as("requests in flight").isEqualTo(4));
      Scrape holding = scrape();
      assertThat(holding.value("meridian_client_connections")).as("open client connections").isEqualTo(1);
      assertThat(holding.value("meridian_client_connections_accepted_total")).isEqualTo(4);
      assertThat(holding.value("meridian_http2_streams_total")).isEqualTo(4);

      answer.get().complete(Reply.ok("held"));
      h2.readUntil(c -> java.util.Arrays.stream(streams).allMatch(c::ended));
      for (int stream : streams) {
        assertThat(h2.dataBytes(stream)).as("stream %d", stream).isEqualTo("held".length());
      }
      assertThat(h2.resetsReceived()).isEmpty();
    }
    await().atMost(WAIT).untilAsserted(() -> {
      Scrape metrics = scrape();
      assertThat(metrics.value("meridian_client_connections")).isZero();
      assertThat(metrics.value("meridian_requests_in_flight")).isZero();
      assertThat(metrics.value("meridian_requests_total", "route", "all", "status", "2xx")).isEqualTo(7);
    });
    Scrape metrics = scrape();
    assertThat(metrics.value("meridian_client_connections_accepted_total")).isEqualTo(4);
    assertThat(metrics.value("meridian_http2_streams_total")).isEqualTo(4);
    assertThat(metrics.value("meridian_http2_resets_total", "direction", "received")).isZero();
    assertThat(metrics.value("meridian_http2_resets_total", "direction", "sent")).isZero();
  }

  @Test
  void aStreamTheClientResetsIsCountedAsAResetReceived() throws Exception {
    CompletableFuture<Reply> never = new CompletableFuture<>();
    TestBackend backend = backend(request -> Reply.when(never));
    start(listener() + group("app", backend)
        + "routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n");
    try (RawHttp2Client h2 = new RawHttp2Client(port()).lenient()) {
      h2.get(1, "/slow");
      await().atMost(WAIT).untilAsserted(() ->
          assertThat(scrape().value("meridian_requests_in_flight")).isEqualTo(1));
      h2.reset(1, RawHttp2Client.CANCEL);

      // The request ends when its stream does: 499, the client left before an answer.
      await().atMost(WAIT).untilAsserted(() -> {
        Scrape metrics = scrape();
        assertThat(metrics.value("meridian_requests_in_flight")).isZero();
        assertThat(metrics.value("meridian_requests_total", "route", "all", "status", "4xx")).isEqualTo(1);
      });
      await().atMost(WAIT).untilAsserted(() -> assertThat(
          scrape().value("meridian_http2_resets_total", "direction", "received")).isEqualTo(1));
      Scrape metrics = scrape();
      assertThat(metrics.value("meridian_http2_resets_total", "direction", "sent")).isZero();
      assertThat(metrics.value("meridian_http2_streams_total")).isEqualTo(1);
    } finally {
      never.complete(Reply.ok("too late"));
    }
  }

  // ---- TLS ---------------------------------------------------------------------------------

  @Test
  void tlsHandshakesAreCountedByResult(@TempDir Path dir) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir, "127.0.0.1");
    TestBackend backend = backend(TestBackend.ok("secure"));
    start(tlsListener(cert) + group("app", backend)
        + "routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n");
    URI secure = URI.create("https://127.0.0.1:" + port() + "/secure");
    Scrape initial = scrape();
    assertThat(initial.value("meridian_tls_handshakes_total", "result", "ok")).isZero();
    assertThat(failedHandshakes(initial)).isZero();
    java.security.cert.X509Certificate leaf;
    try (var in = java.nio.file.Files.newInputStream(cert.cert())) {
      leaf = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(in);
    }
    assertThat(initial.value("meridian_tls_certificate_expiry_timestamp_seconds", "listener", "tls"))
        .as("when the listener's certificate expires, to alert on").isEqualTo(leaf.getNotAfter().toInstant().getEpochSecond());

    HttpClient trusting = HttpClient.newBuilder().sslContext(TrustingSsl.trusting(cert))
        .version(HttpClient.Version.HTTP_1_1).build();
    HttpResponse<String> response = trusting.send(HttpRequest.newBuilder(secure).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("secure");
    await().atMost(WAIT).untilAsserted(() ->
        assertThat(scrape().value("meridian_tls_handshakes_total", "result", "ok")).isEqualTo(1));

    // Plain HTTP to the TLS port: not a TLS record.
    try (RawHttpClient plain = RawHttpClient.connect(port())) {
      plain.send("GET /secure HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(plain.isClosedByPeer()).isTrue();
    }
    await().atMost(WAIT).untilAsserted(() -> assertThat(failedHandshakes(scrape())).isEqualTo(1));
    assertThat(scrape().value("meridian_tls_handshakes_total", "result", "not-tls")).isEqualTo(1);

    assertThat(scrape().value("meridian_tls_handshakes_total", "result", "ok")).isEqualTo(1);
    assertThat(backend.requests()).hasSize(1);
  }

  /** curl rejects the self-signed certificate with an alert, which fails the server's handshake. */
  @Test
  void aHandshakeTheClientRejectsWithAnAlertIsCountedAsFailed(@TempDir Path dir) throws Exception {
    assumeTrue(curlInstalled(), "curl is installed by .ci/run");
    startTls(dir);
    Process curl = new ProcessBuilder("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
        "https://127.0.0.1:" + port() + "/secure").redirectErrorStream(true).start();
    String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(curl.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(curl.exitValue()).as(out).isEqualTo(60); // the peer's certificate could not be verified

    await().atMost(WAIT).untilAsserted(() -> assertThat(failedHandshakes(scrape())).isEqualTo(1));
    assertThat(scrape().value("meridian_tls_handshakes_total", "result", "ok")).isZero();
  }

  /**
   * The JDK's client rejects the self-signed certificate and closes the connection: the server's
   * handshake fails all the same (SslHandler fires a failed SslHandshakeCompletionEvent), and an
   * operator watching for bad certificates needs it counted.
   */
  @Test
  void aHandshakeTheClientAbandonsIsCountedAsFailed(@TempDir Path dir) throws Exception {
    startTls(dir);
    HttpClient distrusting = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    assertThatThrownBy(() -> distrusting.send(HttpRequest.newBuilder(
            URI.create("https://127.0.0.1:" + port() + "/secure")).build(), HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(SSLHandshakeException.class);

    // The JDK client may keep its socket open after giving up (Java 17's HttpClient has no close()),
    // so the server can learn of the failure only when its 10 s handshake timeout fires.
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(failedHandshakes(scrape())).isEqualTo(1));
    assertThat(scrape().value("meridian_tls_handshakes_total", "result", "ok")).isZero();
  }

  private void startTls(Path dir) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir, "127.0.0.1");
    TestBackend backend = backend(TestBackend.ok("secure"));
    start(tlsListener(cert) + group("app", backend)
        + "routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n");
  }

  private static String tlsListener(CertificatePair cert) {
    return "listeners = [ { name = \"tls\", address = \"127.0.0.1:0\", tls { certificates = [ { cert = \""
        + cert.cert() + "\", key = \"" + cert.key() + "\" } ] } } ]\n";
  }

  private static boolean curlInstalled() {
    try {
      return new ProcessBuilder("curl", "--version").start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static double failedHandshakes(Scrape metrics) {
    return metrics.samples("meridian_tls_handshakes_total").stream()
        .filter(s -> !"ok".equals(s.labels().get("result"))).mapToDouble(Sample::value).sum();
  }

  // ---- the process -------------------------------------------------------------------------

  @Test
  void processMetersAreServedBesideTheProxys() throws Exception {
    TestBackend backend = backend(TestBackend.ok("ok"));
    start(listener() + group("app", backend)
        + "routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n");
    assertThat(send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n").status()).isEqualTo(200);

    Scrape metrics = scrape();
    assertThat(metrics.samples("jvm_memory_used_bytes"))
        .isNotEmpty()
        .anySatisfy(s -> assertThat(s.labels()).containsEntry("area", "heap"))
        .allSatisfy(s -> assertThat(s.value()).isGreaterThanOrEqualTo(0));
    assertThat(metrics.samples("process_cpu_usage")).singleElement()
        .satisfies(s -> assertThat(s.labels()).isEmpty());
    assertThat(metrics.value("netty_allocator_memory_used_bytes", "type", "direct")).isGreaterThanOrEqualTo(0);
    assertThat(metrics.value("netty_allocator_memory_used_bytes", "type", "heap")).isGreaterThanOrEqualTo(0);
    assertThat(metrics.samples("process_uptime_seconds")).singleElement()
        .satisfies(s -> assertThat(s.value()).isPositive());
    assertThat(metrics.samples("jvm_threads_live_threads")).singleElement()
        .satisfies(s -> assertThat(s.value()).isPositive());
  }

  // ---- the scrape parser -------------------------------------------------------------------

  /** The parser itself: label sets compared exactly, escapes, special values, comments skipped. */
  @Test
  void theScrapeParserReadsTheTextFormat() {
    Scrape parsed = Scrape.parse("""
        # HELP m_total A help line
        # TYPE m_total counter
        m_total{route="a",status="2xx"} 3.0
        m_total{route="a"} 1.0
        m_total{route="we\\"ird\\\\one\\nx",status="5xx",} 2.0 1712345678000
        g NaN
        h_bucket{le="+Inf"} 7.0
        """);
    assertThat(parsed.value("m_total", "route", "a", "status", "2xx")).isEqualTo(3);
    assertThat(parsed.value("m_total", "route", "a")).isEqualTo(1);
    assertThat(parsed.value("m_total", "status", "5xx", "route", "we\"ird\\one\nx")).isEqualTo(2);
    assertThat(parsed.find("m_total", Map.of("route", "a", "status", "5xx"))).isEmpty();
    assertThat(parsed.find("m_total", Map.of("status", "2xx"))).isEmpty();
    assertThat(parsed.value("g")).isNaN();
    assertThat(parsed.value("h_bucket", "le", "+Inf")).isEqualTo(7);
    assertThat(parsed.samples("m")).isEmpty();
  }

  // ---- helpers -----------------------------------------------------------------------------

  private TestBackend backend(TestBackend.Responder responder) {
    TestBackend backend = TestBackend.start(responder);
    resources.push(backend);
    return backend;
  }

  private static String listener() {
    return "listeners = [ { name = \"web\", address = \"127.0.0.1:0\" } ]\n";
  }

  private static String group(String name, TestBackend backend) {
    return "backend-groups." + name + " { backends = [ { id = \"" + name + "-1\", address = \"127.0.0.1:"
        + backend.port() + "\" } ] }\n";
  }

  /** Starts Meridian with these settings under {@code meridian}, and the admin listener on a free port. */
  private void start(String settings) throws Exception {
    String hocon = "meridian {\n  admin { address = \"127.0.0.1:0\" }\n" + settings + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "metrics-test")).start();
  }

  private int port() {
    return proxy.listenerAddresses().get(0).getPort();
  }

  private URI adminUri(String path) {
    return URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + path);
  }

  /** One request on a connection of its own. */
  private RawResponse send(String request) throws IOException {
    try (RawHttpClient client = RawHttpClient.connect(port())) {
      return client.send(request).readResponse();
    }
  }

  private Scrape scrape() throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(adminUri("/metrics"))
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("text/plain"));
    return Scrape.parse(response.body());
  }

  /** A port nothing listens on: bound, noted, closed. */
  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** One sample line: {@code name{labels} value}. */
  record Sample(String name, Map<String, String> labels, double value) {}

  /**
   * The samples of one scrape in the Prometheus text format (0.0.4): {@code # } lines are skipped,
   * every other line is {@code name}, optional {@code {k="v",...}} and a value (and an optional
   * timestamp, ignored).
   */
  record Scrape(List<Sample> all) {

    static Scrape parse(String text) {
      List<Sample> samples = new ArrayList<>();
      for (String line : text.split("\n")) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        samples.add(parseLine(line));
      }
      return new Scrape(List.copyOf(samples));
    }

    private static Sample parseLine(String line) {
      int i = 0;
      while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
        i++;
      }
      String name = line.substring(0, i);
      Map<String, String> labels = new HashMap<>();
      if (i < line.length() && line.charAt(i) == '{') {
        i++;
        while (line.charAt(i) != '}') {
          int eq = line.indexOf('=', i);
          String key = line.substring(i, eq).trim();
          if (line.charAt(eq + 1) != '"') {
            throw new IllegalArgumentException("unquoted label value in: " + line);
          }
          StringBuilder value = new StringBuilder();
          int j = eq + 2;
          for (; line.charAt(j) != '"'; j++) {
            char c = line.charAt(j);
            if (c == '\\') {
              char next = line.charAt(++j);
              value.append(next == 'n' ? '\n' : next);
            } else {
              value.append(c);
            }
          }
          if (labels.put(key, value.toString()) != null) {
            throw new IllegalArgumentException("label " + key + " twice in: " + line);
          }
          i = j + 1;
          if (line.charAt(i) == ',') {
            i++;
          }
        }
        i++;
      }
      String[] rest = line.substring(i).trim().split(" +");
      return new Sample(name, Map.copyOf(labels), parseValue(rest[0]));
    }

    static double parseValue(String text) {
      return switch (text) {
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        case "NaN" -> Double.NaN;
        default -> Double.parseDouble(text);
      };
    }

    /** Every sample of this name (an exact name: {@code m} is not {@code m_total}). */
    List<Sample> samples(String name) {
      return all.stream().filter(s -> s.name().equals(name)).toList();
    }

    /** The sample with this name and exactly these labels. */
    Optional<Sample> find(String name, Map<String, String> labels) {
      List<Sample> found = all.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels)).toList();
      if (found.size() > 1) {
        throw new AssertionError("several samples " + name + labels + ": " + found);
      }
      return found.stream().findFirst();
    }

    /** The value of the sample with this name and exactly these labels; fails naming what there is. */
    double value(String name, Map<String, String> labels) {
      return find(name, labels).map(Sample::value).orElseThrow(() -> new AssertionError(
          "no sample " + name + labels + "; samples of that name: " + samples(name)));
    }

    /** {@link #value(String, Map)} with the labels as key, value, key, value... */
    double value(String name, String... labelPairs) {
      if (labelPairs.length % 2 != 0) {
        throw new IllegalArgumentException("labels come in key, value pairs");
      }
      Map<String, String> labels = new HashMap<>();
      for (int i = 0; i < labelPairs.length; i += 2) {
        labels.put(labelPairs[i], labelPairs[i + 1]);
      }
      return value(name, labels);
    }
  }
}
