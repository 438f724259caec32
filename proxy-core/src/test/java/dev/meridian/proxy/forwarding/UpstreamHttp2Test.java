package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.testing.Http2TestBackend;
import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import dev.meridian.tls.ServerTlsContexts;
import dev.meridian.tls.ServerTlsSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 to backends ({@code protocol = h2c | h2}): requests from HTTP/1.1 and HTTP/2 clients share
 * multiplexed connections, the backend's stream limit is respected, unprocessed streams (GOAWAY,
 * REFUSED_STREAM) are sent again, trailers pass through, and h2 over TLS is verified.
 */
class UpstreamHttp2Test {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private static ForwardingProxy h2cProxy(Http2TestBackend backend) throws Exception {
    return ForwardingProxy.to(backend.address()).groupOption("protocol = h2c").start();
  }

  private HttpResponse<String> get(ForwardingProxy proxy, String path) throws Exception {
    return http1.send(HttpRequest.newBuilder(URI.create(proxy.url(path))).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(ForwardingProxy proxy, String path, String body) throws Exception {
    return http1.send(HttpRequest.newBuilder(URI.create(proxy.url(path))).timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Sends {@code n} requests for {@code /slow/i} at once (each on its own client connection) and waits for all. */
  private List<HttpResponse<String>> slowGetsAtOnce(ForwardingProxy proxy, int n) throws Exception {
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(http1.sendAsync(HttpRequest.newBuilder(URI.create(proxy.url("/slow/" + i)))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
    }
    List<HttpResponse<String>> responses = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> call : calls) {
      responses.add(call.get(15, TimeUnit.SECONDS));
    }
    return responses;
  }

  /**
   * A client that takes none of a large answer (its HTTP/2 window shut) holds back only its own
   * stream: the other requests on the same connection to the backend still get their bodies (the
   * connection's window does not run dry behind the stalled stream's unread bytes, as nginx and Envoy
   * keep it).
   */
  @Test
  void aClientThatTakesNothingStallsOnlyItsOwnStreamOnASharedBackendConnection() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).groupOption("protocol = h2c")
            .set("timeouts.upstream-idle = 60s").start();
        RawHttp2Client stalled = new RawHttp2Client(proxy.address().getPort(), RawHttp2Client.setting(0x4, 0))
            .lenient()) {
      stalled.get(1, "/big/4194304");
      // The backend holds bytes back for a spent window, and no window moved between two looks.
      String[] last = {null};
      org.awaitility.Awaitility.await().pollInterval(Duration.ofMillis(300)).atMost(Duration.ofSeconds(20))
          .until(() -> {
            String now = backend.sendWindowsWhileHeld();
            boolean still = now != null && now.equals(last[0]);
            last[0] = now;
            return still;
          });

      for (int i = 0; i < 3; i++) {
        // The whole answer within 10 s (a request timeout alone ends at the response's headers).
        HttpResponse<String> other = http1.sendAsync(HttpRequest.newBuilder(URI.create(proxy.url("/x" + i))).build(),
            HttpResponse.BodyHandlers.ofString()).get(10, TimeUnit.SECONDS);
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(other.body()).isEqualTo("hello h2");
      }
      assertThat(backend.connections()).as("the same connection carried them").isEqualTo(1);
    }
  }

  @Test
  void http1ClientsShareOneMultiplexedConnectionToAnH2cBackend() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      for (HttpResponse<String> response : slowGetsAtOnce(proxy, 30)) {
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("hello h2");
        assertThat(response.headers().firstValue("x-seen-scheme")).hasValue("http");
        assertThat(response.headers().map().keySet()).noneMatch(name -> name.startsWith("x-http2-"));
        assertThat(response.headers().firstValue("via")).as("the backend answered over HTTP/2").hasValue("2 meridian");
      }
      // One event loop, a backend allowing 100 streams: all 30 slow requests rode one connection.
      assertThat(backend.connections()).isEqualTo(1);
      assertThat(backend.maxConcurrentPerConnection()).isGreaterThan(1);
      Http2TestBackend.Request seen = backend.requests().get(0);
      assertThat(seen.method()).isEqualTo("GET");
      assertThat(String.valueOf(seen.headers().authority())).isEqualTo("127.0.0.1:" + proxy.port());
      assertThat(seen.headers().get("x-forwarded-for")).hasToString("127.0.0.1");
      assertThat(seen.headers().contains("connection")).isFalse();
      io.micrometer.core.instrument.Timer connects = proxy.metrics().registry().find("meridian.upstream.connect")
          .tag("backend", "127.0.0.1:" + backend.address().getPort()).timer();
      assertThat(connects).as("HTTP/2 connections count in meridian_upstream_connect_seconds").isNotNull();
      assertThat(connects.count()).isEqualTo(1);
    }
  }

  @Test
  void theAdminApiShowsOpenHttp2Streams() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).groupOption("protocol = h2c")
            .set("admin { enabled = true, address = \"127.0.0.1:0\" }").start()) {
      CompletableFuture<HttpResponse<String>> slow = http1.sendAsync(HttpRequest.newBuilder(
          URI.create(proxy.url("/slow/admin"))).build(), HttpResponse.BodyHandlers.ofString());
      URI backends = URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/admin/api/backends");
      // Some backend, in some group, shows one open stream.
      await().atMost(Duration.ofSeconds(5)).until(() -> JSON.readTree(http1.send(HttpRequest.newBuilder(backends).build(),
          HttpResponse.BodyHandlers.ofString()).body()).findValues("http2-streams").stream()
          .anyMatch(streams -> streams.isIntegralNumber() && streams.intValue() == 1));
      assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void theBackendsStreamLimitIsRespected() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 2);
        ForwardingProxy proxy = h2cProxy(backend)) {
      assertThat(slowGetsAtOnce(proxy, 8)).extracting(HttpResponse::statusCode).containsOnly(200);
      assertThat(backend.maxConcurrentPerConnection()).isEqualTo(2);
      assertThat(backend.connections()).isGreaterThanOrEqualTo(4);
    }
  }

  /**
   * Every stream the backend allows is held by a request it never answers: the next request waits for
   * a stream no longer than the connect timeout, then gets a 503 (the backend is busy, not failing:
   * it is not ejected), long before the response timeout.
   */
  @Test
  void aRequestWaitsForAStreamNoLongerThanTheConnectTimeout() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 1);
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).groupOption("protocol = h2c")
            .set("timeouts { connect = 500ms, response-headers = 20s }").set("debug-headers = true").start()) {
      List<CompletableFuture<HttpResponse<String>>> stalled = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        stalled.add(http1.sendAsync(HttpRequest.newBuilder(URI.create(proxy.url("/stall/" + i))).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> backend.requests().size() == 4);
      long start = System.nanoTime();
      HttpResponse<String> waited = get(proxy, "/next");
      long tookMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(waited.statusCode()).isEqualTo(503);
      assertThat(waited.body()).contains("has no free HTTP/2 stream");
      assertThat(tookMillis).isBetween(400L, 5_000L);
      assertThat(backend.requests()).hasSize(4);
      stalled.forEach(f -> f.cancel(true));
    }
  }

  /**
   * A backend that accepts connections but never speaks HTTP/2 (no SETTINGS: hung, or another
   * protocol on the port) fails each request like a connect timeout, so passive health ejects it;
   * counted as merely busy, it kept every request of its group waiting the connect timeout.
   */
  @Test
  void aBackendThatNeverSendsSettingsIsEjectedLikeOneThatTimesOut() throws Exception {
    try (dev.meridian.proxy.testing.RawTcpBackend silent = dev.meridian.proxy.testing.RawTcpBackend.start(
            socket -> socket.getInputStream().readAllBytes());
        Http2TestBackend healthy = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = ForwardingProxy.to(silent.address(), healthy.address()).groupOption("protocol = h2c")
            .set("timeouts { connect = 300ms }").start()) {
      for (int i = 0; i < 8; i++) {
        assertThat(get(proxy, "/silent/" + i).statusCode()).as("retried on the healthy backend").isEqualTo(200);
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> proxy.healthMarks(0).containsKey("outlier"));
      assertThat(proxy.healthMarks(1)).isEmpty();
    }
  }

  @Test
  void largeBodiesStreamBothWaysFromHttp1AndHttp2Clients(@TempDir Path dir) throws Exception {
    byte[] body = new byte[4 * 1024 * 1024 + 123];
    new Random(11).nextBytes(body);
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      HttpResponse<byte[]> echoed = http1.send(HttpRequest.newBuilder(URI.create(proxy.url("/echo")))
          .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(echoed.statusCode()).isEqualTo(200);
      assertThat(sha256(echoed.body())).isEqualTo(sha256(body));

      assumeTrue(Http2CleartextTest.installed("curl"), "curl is installed by .ci/run");
      Path upload = Files.write(dir.resolve("upload.bin"), body);
      Path download = dir.resolve("download.bin");
      Http2CleartextTest.run(List.of("curl", "-s", "--http2-prior-knowledge", "--data-binary", "@" + upload,
          "-o", download.toString(), proxy.url("/echo")));
      assertThat(sha256(Files.readAllBytes(download))).isEqualTo(sha256(body));
    }
  }

  @Test
  void manyConcurrentHttp2StreamsReachAnHttp2Backend() throws Exception {
    assumeTrue(Http2CleartextTest.installed("h2load"), "h2load (nghttp2-client) is installed by .ci/run");
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      String report = Http2CleartextTest.run(List.of("h2load", "-n", "2000", "-c", "4", "-m", "50",
          proxy.url("/many")));
      assertThat(report).contains("2000 succeeded, 0 failed, 0 errored").contains("status codes: 2000 2xx");
      assertThat(backend.requests()).hasSize(2000);
      // 4 client connections x 50 streams on one event loop: at most 4 backend connections (the
      // per-backend cap) carried them all, none above the backend's 100-stream limit.
      assertThat(backend.connections()).isBetween(1, 4);
      assertThat(backend.maxConcurrentPerConnection()).isLessThanOrEqualTo(100);
    }
  }

  /**
   * Large answers from an HTTP/2 backend to HTTP/2 clients with small stream windows: a client's
   * WINDOW_UPDATE made its stream writable, the relay read the backend's stream on at once, the
   * response ended and its stream closed inside Netty's handling of that WINDOW_UPDATE, and Netty then
   * ended the whole client connection with an internal error (a NullPointerException in its frame
   * listener; a chaos trial lost 3,394 of 6,000 requests so).
   */
  @Test
  void windowUpdatesThatLetABackendsAnswerEndDoNotKillTheClientConnection() throws Exception {
    assumeTrue(Http2CleartextTest.installed("h2load"), "h2load (nghttp2-client) is installed by .ci/run");
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      String report = Http2CleartextTest.run(List.of("h2load", "-n", "1500", "-c", "2", "-m", "8", "-w", "16",
          "-W", "20", proxy.url("/big/100000")));
      assertThat(report).contains("1500 succeeded, 0 failed, 0 errored").contains("status codes: 1500 2xx");
    }
  }

  @Test
  void aRefusedStreamIsSentAgainEvenForAPost() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      HttpResponse<String> response = post(proxy, "/refuse-once", "payload");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("payload");
      assertThat(backend.unprocessed()).isEqualTo(1);
      assertThat(backend.requests()).extracting(Http2TestBackend.Request::path)
          .containsExactly("/refuse-once", "/refuse-once");
    }
  }

  @Test
  void streamsAboveAGoAwayAreSentAgainOnANewConnection() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      HttpResponse<String> response = post(proxy, "/goaway-once", "order 66");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("order 66");
      assertThat(response.headers().firstValue("x-seen-connection")).hasValue("2");
      assertThat(backend.connections()).isEqualTo(2);
      // The connection that went away is not used again.
      assertThat(get(proxy, "/after").headers().firstValue("x-seen-connection")).hasValue("2");
    }
  }

  @Test
  void aStreamResetBeforeTheResponseIs502ForAPostAndTheProxyKeepsServing() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      assertThat(post(proxy, "/reset", "x").statusCode()).isEqualTo(502);
      assertThat(backend.requests()).hasSize(1);
      assertThat(get(proxy, "/fine").statusCode()).isEqualTo(200);
    }
  }

  /** A :status that is not three digits from 100 to 599 is a malformed response: 502, never passed on. */
  @Test
  void aMalformedStatusFromTheBackendIs502() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      for (String status : List.of("2000", "0", "99", "600", "200%20OK", "2x0")) {
        assertThat(get(proxy, "/status/" + status).statusCode()).as(status).isEqualTo(502);
      }
      assertThat(get(proxy, "/status/204").statusCode()).isEqualTo(204);
      assertThat(get(proxy, "/fine").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void trailersAndTePassThroughToAnHttp1Client() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend);
        RawHttpClient client = proxy.connect()) {
      client.send("GET /trailers HTTP/1.1\r\nHost: app.test\r\nTE: trailers\r\n\r\n");
      RawHttpClient.RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("hello h2");
      assertThat(response.trailer("x-trailer")).isEqualTo("yes");
      assertThat(response.header("x-seen-te")).isEqualTo("trailers");
      assertThat(response.header("x-seen-authority")).isEqualTo("app.test");

      client.send("GET /plain HTTP/1.1\r\nHost: app.test\r\nTE: gzip\r\n\r\n");
      assertThat(client.readResponse().header("x-seen-te")).isEqualTo("null");
    }
  }

  /** An h2 backend's trailers are filtered as an HTTP/1.1 backend's are, for either kind of client. */
  @Test
  void trailerFieldsNoTrailerMayCarryAreDroppedFromAnH2Backend() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend);
        RawHttpClient client = proxy.connect()) {
      client.send("GET /trailers-forbidden HTTP/1.1\r\nHost: app.test\r\nTE: trailers\r\n\r\n");
      RawHttpClient.RawResponse response = client.readResponse();
      assertThat(response.bodyText()).isEqualTo("hello h2");
      assertThat(response.trailer("x-trailer")).isEqualTo("yes");
      for (String name : List.of("content-length", "set-cookie", "x-forwarded-for", "authorization", "host")) {
        assertThat(response.trailer(name)).as(name).isNull();
      }
    }
    assumeTrue(Http2CleartextTest.installed("nghttp"), "nghttp (nghttp2-client) is installed by .ci/run");
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      String frames = Http2CleartextTest.run(List.of("nghttp", "-v", proxy.url("/trailers-forbidden")));
      // nghttp prints a header block's fields, then its frame: the trailers come after the last DATA frame.
      String trailers = frames.substring(frames.lastIndexOf("recv DATA frame"));
      assertThat(trailers).contains("x-trailer: yes").doesNotContain("x-forwarded-for").doesNotContain("set-cookie")
          .doesNotContain("authorization").doesNotContain("content-length").doesNotContain("evil");
    }
  }

  /**
   * An h2 backend's content on an answer that may have none (to a HEAD, a 204, a 304) does not reach
   * an HTTP/2 client (RFC 9113 section 8.1.1: it would be malformed there), as an HTTP/1.1 backend's does not.
   */
  @Test
  void contentOnAHeadOr204Or304AnswerIsDroppedForAnHttp2Client() throws Exception {
    assumeTrue(Http2CleartextTest.installed("nghttp"), "nghttp (nghttp2-client) is installed by .ci/run");
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      for (List<String> command : List.of(
          List.of("nghttp", "-v", "-H", ":method: HEAD", proxy.url("/plain")),
          List.of("nghttp", "-v", proxy.url("/no-content/204")),
          List.of("nghttp", "-v", proxy.url("/no-content/304")))) {
        String frames = Http2CleartextTest.run(command);
        // nghttp2 resets a stream whose answer has content it may not have (PROTOCOL_ERROR) and does
        // not print that content: the stream must end cleanly instead.
        assertThat(frames).as(String.join(" ", command)).doesNotContain("PROTOCOL_ERROR")
            .doesNotContainPattern("recv DATA frame <length=[1-9]").doesNotContain("Some requests were not processed");
        assertThat(frames).containsPattern("recv DATA frame <length=0, flags=0x01");
      }
    }
  }

  @Test
  void aTrailersOnlyResponseReachesAnHttp2ClientAsOneHeadersFrame() throws Exception {
    assumeTrue(Http2CleartextTest.installed("nghttp"), "nghttp (nghttp2-client) is installed by .ci/run");
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = h2cProxy(backend)) {
      String frames = Http2CleartextTest.run(List.of("nghttp", "-v", proxy.url("/trailers-only")));
      // The response HEADERS carries grpc-status and ends the stream; no DATA frame follows.
      String response = frames.substring(frames.indexOf(":status: 200"));
      assertThat(response).contains("grpc-status: 0");
      assertThat(frames).containsPattern("recv HEADERS frame <[^>]*flags=0x05");
      assertThat(response).doesNotContain("recv DATA frame");
    }
  }

  /**
   * Active checks ask an HTTP/2 group's backends over HTTP/2, over TLS when the group speaks TLS: a
   * check in plain HTTP/1.1 failed every time, and such a group sat in panic with its health ignored.
   */
  @Test
  void activeChecksSpeakTheGroupsHttp2WithItsTls(@TempDir Path dir) throws Exception {
    String passing = "health { active { path = \"/status/204\", interval = 100ms, initial = unavailable, rise = 1 } }";
    String failing = "health { active { path = \"/status/503\", interval = 100ms, fall = 1 } }";
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy up = ForwardingProxy.to(backend.address()).groupOption("protocol = h2c")
            .groupOption(passing).start();
        ForwardingProxy down = ForwardingProxy.to(backend.address()).groupOption("protocol = h2c")
            .groupOption(failing).start()) {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> up.healthMarks(0).isEmpty());
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !down.healthMarks(0).isEmpty());
      assertThat(down.healthMarks(0)).hasEntrySatisfying("active-check", r -> assertThat(r).contains("status 503"));
    }
    CertificatePair cert = SelfSignedCertificates.generate(dir, "localhost");
    var tls = ServerTlsContexts.build(ServerTlsSettings.of(cert.cert(), cert.key())).defaultContext();
    String trust = "tls { trust = \"" + cert.cert() + "\", server-name = \"localhost\" }";
    try (Http2TestBackend backend = Http2TestBackend.start(tls, 100);
        ForwardingProxy up = ForwardingProxy.to(backend.address()).groupOption("protocol = h2")
            .groupOption(trust).groupOption(passing).start();
        ForwardingProxy down = ForwardingProxy.to(backend.address()).groupOption("protocol = h2")
            .groupOption(trust).groupOption(failing).start()) {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> up.healthMarks(0).isEmpty());
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !down.healthMarks(0).isEmpty());
      assertThat(down.healthMarks(0)).hasEntrySatisfying("active-check", r -> assertThat(r).contains("status 503"));
    }
    // A check port of its own (a management port) is asked in plain HTTP/1.1, as HAProxy does.
    try (Http2TestBackend backend = Http2TestBackend.start(tls, 100);
        dev.meridian.proxy.testing.TestBackend management = dev.meridian.proxy.testing.TestBackend.start(
            dev.meridian.proxy.testing.TestBackend.ok("ok"));
        ForwardingProxy up = ForwardingProxy.to(backend.address()).groupOption("protocol = h2").groupOption(trust)
            .groupOption("health { active { path = \"/health\", port = " + management.port()
                + ", interval = 100ms, initial = unavailable, rise = 1 } }").start()) {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> up.healthMarks(0).isEmpty());
    }
  }

  @Test
  void h2OverTlsIsNegotiatedAndVerified(@TempDir Path dir) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir, "localhost");
    var tls = ServerTlsContexts.build(ServerTlsSettings.of(cert.cert(), cert.key())).defaultContext();
    try (Http2TestBackend backend = Http2TestBackend.start(tls, 100)) {
      try (ForwardingProxy proxy = ForwardingProxy.to(backend.address()).groupOption("protocol = h2")
          .groupOption("tls { trust = \"" + cert.cert() + "\", server-name = \"localhost\" }").start()) {
        HttpResponse<String> response = post(proxy, "/secure", "over tls");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("over tls");
        assertThat(response.headers().firstValue("x-seen-scheme")).hasValue("https");
      }
      try (ForwardingProxy proxy = ForwardingProxy.to(backend.address()).groupOption("protocol = h2")
          .groupOption("tls { trust = \"" + cert.cert() + "\", server-name = \"someone-else.test\" }")
          .set("upstream.connect-attempts = 1").start()) {
        assertThat(get(proxy, "/mismatch").statusCode()).isEqualTo(502);
        assertThat(backend.requests()).extracting(Http2TestBackend.Request::path).doesNotContain("/mismatch");
      }
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
