package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TrustingSsl;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import io.micrometer.core.instrument.FunctionCounter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The access log end to end: real clients (JDK HttpClient, curl, raw sockets, TLS) through a running
 * proxy to real backends, the lines read back from the log file as JSON.
 */
class AccessLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CLIENT_TRACEPARENT = "00-" + CLIENT_TRACE + "-00f067aa0ba902b7-01";
  private static final String TRACEPARENT = "00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}";

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  private Path logFile() {
    return dir.resolve("access.log");
  }

  /** A proxy in front of the backend (id "b1") with the access log on, to {@link #logFile()}, and {@code extra}. */
  private ProxyFixture start(int backendPort, String extra) throws Exception {
    return ProxyFixture.start(List.of(backendPort), """
        meridian.backend-groups.app.backends = [ { id = "b1", address = "127.0.0.1:%d" } ]
        meridian.access-log { enabled = true, output = "%s" }
        """.formatted(backendPort, logFile()) + extra);
  }

  private HttpResponse<String> get(ProxyFixture proxy, String target, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + target))
        .timeout(Duration.ofSeconds(10));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The complete lines of the log file, parsed (a line still being written is left out). */
  private static List<JsonNode> lines(Path file) throws IOException {
    if (!Files.exists(file)) {
      return List.of();
    }
    String text = Files.readString(file, StandardCharsets.UTF_8);
    List<JsonNode> nodes = new ArrayList<>();
    int start = 0;
    for (int end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      nodes.add(JSON.readTree(text.substring(start, end)));
      start = end + 1;
    }
    return nodes;
  }

  /** Waits until the log holds at least {@code n} lines and returns them. */
  private List<JsonNode> awaitLines(int n) {
    return await().atMost(Duration.ofSeconds(10)).until(() -> lines(logFile()), l -> l.size() >= n);
  }

  private static double linesCounter(ProxyFixture proxy, String result) {
    FunctionCounter c = proxy.instance().proxy().metrics().registry().find("meridian.access.log.lines")
        .tag("result", result).functionCounter();
    return c == null ? -1 : c.count();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static boolean installed(String tool) {
    try {
      return new ProcessBuilder(tool, "--version").start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String run(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as(text).isZero();
    return text;
  }

  @Test
  void aProxiedGetIsOneLineWithWhatHappened() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("hello world"));
        ProxyFixture proxy = start(backend.port(), "")) {
      Instant before = Instant.now();
      HttpResponse<String> response = get(proxy, "/hello/there?x=1&y=2", "User-Agent", "access-log-test/1.0");
      Instant after = Instant.now();
      assertThat(response.statusCode()).isEqualTo(200);

      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("status").asInt()).isEqualTo(200);
      assertThat(line.get("method").asText()).isEqualTo("GET");
      assertThat(line.get("host").asText()).isEqualTo("127.0.0.1:" + proxy.port());
      assertThat(line.get("path").asText()).as("the path without the query").isEqualTo("/hello/there");
      assertThat(line.get("protocol").asText()).isEqualTo("HTTP/1.1");
      assertThat(line.get("route").asText()).isEqualTo("all");
      assertThat(line.get("group").asText()).isEqualTo("app");
      assertThat(line.get("backend").asText()).isEqualTo("b1");
      assertThat(line.get("upstream_addr").asText()).isEqualTo("127.0.0.1:" + backend.port());
      assertThat(line.get("upstream_status").asInt()).isEqualTo(200);
      assertThat(line.has("reason")).as("a backend answered").isFalse();
      assertThat(line.get("attempts").asInt()).isEqualTo(1);
      assertThat(line.get("bytes_in").asLong()).isZero();
      assertThat(line.get("bytes_out").asLong()).isEqualTo("hello world".length());
      assertThat(line.get("client").asText()).isEqualTo("127.0.0.1");
      assertThat(line.get("user_agent").asText()).isEqualTo("access-log-test/1.0");
      assertThat(line.get("request_id").asText()).isNotEmpty()
          .isEqualTo(response.headers().firstValue("x-request-id").orElseThrow());
      String sent = backend.requests().get(0).header("traceparent");
      assertThat(sent).matches(TRACEPARENT);
      assertThat(line.get("trace_id").asText()).isEqualTo(sent.substring(3, 35));
      assertThat(line.has("upstream_ms")).isTrue();
      double upstream = line.get("upstream_ms").asDouble();
      double duration = line.get("duration_ms").asDouble();
      assertThat(upstream).isGreaterThanOrEqualTo(0).isLessThanOrEqualTo(duration);
      assertThat(duration).isLessThan(Duration.between(before, after).toMillis() + 1.0);
      Instant time = Instant.parse(line.get("time").asText());
      assertThat(time).isBetween(before.minusMillis(1000), after.plusMillis(1000));
      assertThat(line.has("tls")).isFalse();
      assertThat(line.has("sni")).isFalse();
      assertThat(line.has("cache")).isFalse();
      assertThat(line.has("sticky")).isFalse();
      assertThat(line.has("decision")).as("decisions are off by default").isFalse();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(linesCounter(proxy, "written")).isEqualTo(1.0));
      assertThat(linesCounter(proxy, "dropped")).isZero();
      assertThat(linesCounter(proxy, "sampled_out")).isZero();
    }
    assertThat(lines(logFile())).as("one request, one line").hasSize(1);
  }

  @Test
  void anHttp2CleartextRequestSaysHttp2() throws Exception {
    assumeTrue(installed("curl"), "curl is installed by .ci/run");
    try (TestBackend backend = TestBackend.start(TestBackend.ok("over h2"));
        ProxyFixture proxy = start(backend.port(), "")) {
      String status = run(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{http_version}",
          "--max-time", "20", "--http2-prior-knowledge", "http://127.0.0.1:" + proxy.port() + "/h2/path?q=1"));
      assertThat(status).isEqualTo("200 2");
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("protocol").asText()).isEqualTo("HTTP/2.0");
      assertThat(line.get("status").asInt()).isEqualTo(200);
      assertThat(line.get("method").asText()).isEqualTo("GET");
      assertThat(line.get("path").asText()).isEqualTo("/h2/path");
      assertThat(line.get("query").asText()).isEqualTo("q=1");
      assertThat(line.get("host").asText()).isEqualTo("127.0.0.1:" + proxy.port());
      assertThat(line.get("bytes_out").asLong()).isEqualTo("over h2".length());
      assertThat(line.get("backend").asText()).isEqualTo("b1");
      assertThat(line.get("trace_id").asText())
          .isEqualTo(backend.requests().get(0).header("traceparent").substring(3, 35));
    }
  }

  @Test
  void anHttp2MethodThatIsNoTokenIsRefusedAndLoggedAsADash() throws Exception {
    assumeTrue(installed("curl"), "curl is installed by .ci/run");
    try (TestBackend backend = TestBackend.start(TestBackend.ok("never"));
        ProxyFixture proxy = start(backend.port(), "")) {
      String status = run(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
          "--http2-prior-knowledge", "-X", "GE\"T", "http://127.0.0.1:" + proxy.port() + "/quoted"));
      assertThat(status).isEqualTo("400");
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("method").asText()).as("not GET: the client sent no GET").isEqualTo("-");
      assertThat(line.get("path").asText()).isEqualTo("/quoted");
      assertThat(line.get("status").asInt()).isEqualTo(400);
      assertThat(backend.requests()).isEmpty();
    }
  }

  @Test
  void theFieldsNamedAreRecordedAsTheClientSentAndGotThem() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("fields"));
        ProxyFixture proxy = start(backend.port(), """
            meridian.access-log.request-headers = [X-Api-Client, Accept-Language, X-Forwarded-For, Via]
            meridian.access-log.response-headers = [Content-Type, X-Request-Id, Retry-After]
            meridian.routes = [ { name = "api", path-prefix = "/api/", backend-group = "app" } ]
            """)) {
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/api/x"))
          .header("X-Api-Client", "tenant-7").header("X-Api-Client", "tenant-8").build();
      HttpResponse<String> proxied = http.send(request, HttpResponse.BodyHandlers.ofString());
      assertThat(proxied.statusCode()).isEqualTo(200);
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("request_headers").toString())
          .as("two lines joined; Accept-Language not sent, nor X-Forwarded-For and Via, which Meridian adds upstream")
          .isEqualTo("{\"x-api-client\":\"tenant-7, tenant-8\"}");
      assertThat(line.get("response_headers").get("content-type").asText()).isEqualTo("text/plain; charset=utf-8");
      assertThat(line.get("response_headers").get("x-request-id").asText()).as("the id the client got")
          .isEqualTo(proxied.headers().firstValue("x-request-id").orElseThrow());
      assertThat(line.get("response_headers").has("retry-after")).isFalse();

      // An answer of Meridian's own has its fields recorded the same way.
      HttpResponse<String> local = get(proxy, "/elsewhere", "Accept-Language", "de");
      assertThat(local.statusCode()).isEqualTo(404);
      JsonNode localLine = awaitLines(2).get(1);
      assertThat(localLine.get("request_headers").toString()).isEqualTo("{\"accept-language\":\"de\"}");
      assertThat(localLine.get("response_headers").get("content-type").asText())
          .isEqualTo(local.headers().firstValue("content-type").orElseThrow());
    }
  }

  @Test
  void theCombinedFormatIsWhatLogToolsRead() throws Exception {
    assumeTrue(installed("curl"), "curl is installed by .ci/run");
    try (TestBackend backend = TestBackend.start(TestBackend.ok("combined"));
        ProxyFixture proxy = start(backend.port(), """
            meridian.access-log { format = combined, request-headers = [X-Api-Client], response-headers = [Content-Type] }
            """)) {
      String base = "http://127.0.0.1:" + proxy.port();
      assertThat(run(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
          "-A", "curl-test \"quoted\"", "-e", base + "/from", "-H", "X-Api-Client: t7", base + "/p/q?x=1&y=2")))
          .isEqualTo("200");
      assertThat(run(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
          "--http2-prior-knowledge", "-A", "h2", base + "/h2"))).isEqualTo("200");
      List<String> lines = await().atMost(Duration.ofSeconds(10)).until(
          () -> Files.exists(logFile()) ? Files.readAllLines(logFile()) : List.<String>of(), l -> l.size() >= 2);
      String time = "\\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}\\]";
      assertThat(lines.get(0)).matches("127\\.0\\.0\\.1 - - " + time
          + " \"GET /p/q\\?x=1&y=2 HTTP/1\\.1\" 200 8 \"" + java.util.regex.Pattern.quote(base + "/from")
          + "\" \"curl-test \\\\x22quoted\\\\x22\" \"t7\" \"text/plain; charset=utf-8\"");
      assertThat(lines.get(1)).matches("127\\.0\\.0\\.1 - - " + time
          + " \"GET /h2 HTTP/2\\.0\" 200 8 \"-\" \"h2\" \"-\" \"text/plain; charset=utf-8\"");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"HTTP/1.0", "HTTP/1.1"})
  void theProtocolIsTheClientsVersion(String version) throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("v"));
        ProxyFixture proxy = start(backend.port(), "");
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET /v HTTP/" + version.substring(5) + "\r\nHost: a.test\r\nConnection: close\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("protocol").asText()).isEqualTo(version);
      assertThat(line.get("host").asText()).isEqualTo("a.test");
    }
  }

  @Test
  void aRequestBodyIsCountedInBytesIn() throws Exception {
    byte[] body = new byte[1000];
    java.util.Arrays.fill(body, (byte) 'b');
    try (TestBackend backend = TestBackend.start(TestBackend.echo());
        ProxyFixture proxy = start(backend.port(), "")) {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + proxy.port() + "/upload"))
          .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("method").asText()).isEqualTo("POST");
      assertThat(line.get("bytes_in").asLong()).isEqualTo(1000);
      assertThat(line.get("bytes_out").asLong()).isEqualTo(1000);

      // A chunked body counts its data, not its framing.
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("PUT /chunked HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
        assertThat(client.readResponse().bodyText()).isEqualTo("hello, world");
      }
      JsonNode chunked = awaitLines(2).get(1);
      assertThat(chunked.get("method").asText()).isEqualTo("PUT");
      assertThat(chunked.get("bytes_in").asLong()).isEqualTo(12);
      assertThat(chunked.get("bytes_out").asLong()).isEqualTo(12);
    }
  }

  @Test
  void aMalformedRequestIsLoggedWithItsLocalAnswer() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("never"));
        ProxyFixture proxy = start(backend.port(), "")) {
      RawHttpClient.RawResponse badHost;
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("GET /bad-host HTTP/1.1\r\nHost: bad host!\r\n\r\n");
        badHost = client.readResponse();
      }
      assertThat(badHost.status()).isEqualTo(400);
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("status").asInt()).isEqualTo(400);
      assertThat(line.get("method").asText()).isEqualTo("GET");
      assertThat(line.get("protocol").asText()).isEqualTo("HTTP/1.1");
      assertThat(line.get("attempts").asInt()).isZero();
      assertThat(line.get("bytes_out").asLong()).isEqualTo(badHost.body().length);
      assertThat(line.has("backend")).isFalse();
      assertThat(line.has("route")).isFalse();
      assertThat(line.has("upstream_ms")).isFalse();
      assertThat(line.get("request_id").asText()).isEqualTo(badHost.header("x-request-id"));
      assertThat(line.get("path").asText()).as("what was asked for, though refused").isEqualTo("/bad-host");
      assertThat(line.get("host").asText()).isEqualTo("bad host!");

      // A head the decoder refuses (a field line without a colon) is logged too, with the method and
      // target its request line began with.
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("POST /no-colon?a=1 HTTP/1.1\r\nHost: a.test\r\nNo colon here\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(400);
      }
      JsonNode refused = awaitLines(2).get(1);
      assertThat(refused.get("status").asInt()).isEqualTo(400);
      assertThat(refused.get("method").asText()).isEqualTo("POST");
      assertThat(refused.get("path").asText()).isEqualTo("/no-colon");
      assertThat(refused.get("query").asText()).isEqualTo("a=1");
      assertThat(refused.get("attempts").asInt()).isZero();
      assertThat(refused.has("backend")).isFalse();

      // A path the target rules refuse (a dot segment) is logged as sent.
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("GET /static/../etc/passwd HTTP/1.1\r\nHost: a.test\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(400);
      }
      JsonNode traversal = awaitLines(3).get(2);
      // A request line that cannot be read as "method target": "-" for both, no made-up GET.
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("FOO\"BAR /m HTTP/1.1\r\nHost: a.test\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(400);
      }
      JsonNode unreadable = awaitLines(4).get(3);
      assertThat(unreadable.get("status").asInt()).isEqualTo(400);
      assertThat(unreadable.get("method").asText()).isEqualTo("-");
      assertThat(unreadable.get("path").asText()).isEqualTo("-");
      assertThat(traversal.get("path").asText()).isEqualTo("/static/../etc/passwd");
      assertThat(traversal.get("host").asText()).isEqualTo("a.test");
      assertThat(backend.requests()).as("nothing reached the backend").isEmpty();
    }
  }

  @Test
  void aRequestWithoutRouteIsA404Line() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("never"));
        ProxyFixture proxy = start(backend.port(),
            "meridian.routes = [ { name = \"api\", path-prefix = \"/api/\", backend-group = \"app\" } ]\n")) {
      assertThat(get(proxy, "/elsewhere?q=1").statusCode()).isEqualTo(404);
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("status").asInt()).isEqualTo(404);
      assertThat(line.get("path").asText()).isEqualTo("/elsewhere");
      assertThat(line.has("route")).isFalse();
      assertThat(line.get("attempts").asInt()).isZero();
    }
  }

  @Test
  void aBackendThatRefusesConnectionsGivesA5xxLine() throws Exception {
    int refusing = freePort();
    try (ProxyFixture proxy = start(refusing, "")) {
      HttpResponse<String> response = get(proxy, "/refused");
      assertThat(response.statusCode()).isIn(502, 503);
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("status").asInt()).isEqualTo(response.statusCode());
      assertThat(line.get("attempts").asInt()).isGreaterThanOrEqualTo(1);
      assertThat(line.has("upstream_ms")).as("no backend answered").isFalse();
      assertThat(line.has("upstream_status")).as("Meridian answered, not a backend").isFalse();
      assertThat(line.get("reason").asText()).as("why it answered itself")
          .isEqualTo("could not reach a backend of group 'app' (last: could not connect to backend b1)");
      assertThat(line.get("upstream_addr").asText()).isEqualTo("127.0.0.1:" + refusing);
      assertThat(line.get("route").asText()).isEqualTo("all");
      assertThat(line.get("group").asText()).isEqualTo("app");
      assertThat(line.get("bytes_out").asLong()).isEqualTo(response.body().getBytes(StandardCharsets.UTF_8).length);
      assertThat(line.get("request_id").asText())
          .isEqualTo(response.headers().firstValue("x-request-id").orElseThrow());
    }
  }

  @Test
  void aClientThatLeavesBeforeTheAnswerIsA499Line() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.never());
        ProxyFixture proxy = start(backend.port(), "")) {
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("GET /stalled?x=1 HTTP/1.1\r\nHost: a.test\r\n\r\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.requests().size() == 1);
        // An abort (RST): a FIN alone is a half-close, after which the client may still read the answer.
        client.socket().setSoLinger(true, 0);
      }
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("status").asInt()).isEqualTo(499);
      assertThat(line.get("path").asText()).isEqualTo("/stalled");
      assertThat(line.get("attempts").asInt()).isEqualTo(1);
      assertThat(line.get("backend").asText()).isEqualTo("b1");
      assertThat(line.get("bytes_out").asLong()).isZero();
      assertThat(line.has("upstream_ms")).isFalse();
    }
  }

  /**
   * A request still waiting for its backend when the proxy stops is cut off; its line is written
   * before the log closes (stopping closes the log "after the clients closed").
   */
  @org.junit.jupiter.api.RepeatedTest(10) // the loss is a race: ten stops make it show
  void aRequestCutOffByShutdownIsLogged() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.never())) {
      ProxyFixture proxy = start(backend.port(), "");
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("GET /cut HTTP/1.1\r\nHost: a.test\r\n\r\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.requests().size() == 1);
        proxy.close(); // no drain: the request is cut off
      } finally {
        proxy.close();
      }
      assertThat(lines(logFile())).singleElement().satisfies(line -> {
        assertThat(line.get("path").asText()).isEqualTo("/cut");
        assertThat(line.get("attempts").asInt()).isEqualTo(1);
      });
    }
  }

  @Test
  void withSampleZeroOnlyErrorsAreLogged() throws Exception {
    try (TestBackend backend = TestBackend.start(request ->
            request.uri().startsWith("/fail") ? TestBackend.Reply.status(500) : TestBackend.Reply.ok("fine"));
        ProxyFixture proxy = start(backend.port(), "meridian.access-log { sample = 0.0, always-log-errors = true }\n")) {
      for (int i = 0; i < 5; i++) {
        assertThat(get(proxy, "/ok/" + i).statusCode()).isEqualTo(200);
      }
      assertThat(get(proxy, "/fail").statusCode()).isEqualTo(500);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(linesCounter(proxy, "written")).isEqualTo(1.0));
      assertThat(linesCounter(proxy, "sampled_out")).isEqualTo(5.0);
      assertThat(linesCounter(proxy, "dropped")).isZero();
    }
    assertThat(lines(logFile())).singleElement().satisfies(line -> {
      assertThat(line.get("status").asInt()).isEqualTo(500);
      assertThat(line.get("path").asText()).isEqualTo("/fail");
    });
  }

  @Test
  void withSampleZeroAndNoAlwaysLogErrorsNothingIsLogged() throws Exception {
    try (TestBackend backend = TestBackend.start(request ->
            request.uri().startsWith("/fail") ? TestBackend.Reply.status(500) : TestBackend.Reply.ok("fine"));
        ProxyFixture proxy = start(backend.port(), "meridian.access-log { sample = 0, always-log-errors = false }\n")) {
      assertThat(get(proxy, "/ok").statusCode()).isEqualTo(200);
      assertThat(get(proxy, "/fail").statusCode()).isEqualTo(500);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(linesCounter(proxy, "sampled_out")).isEqualTo(2.0));
      assertThat(linesCounter(proxy, "written")).isZero();
    }
    assertThat(lines(logFile())).isEmpty();
  }

  @Test
  void theFileIsRotatedAndCompressedKeepingMaxFiles() throws Exception {
    int requests = 60;
    String padding = "p".repeat(300);
    try (TestBackend backend = TestBackend.start(TestBackend.ok("rotating"));
        ProxyFixture proxy = start(backend.port(),
            "meridian.access-log { max-file-size = 2KiB, max-files = 2, compress = true }\n")) {
      for (int i = 0; i < requests; i++) {
        assertThat(get(proxy, "/rotate/" + i + "/" + padding).statusCode()).isEqualTo(200);
      }
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(linesCounter(proxy, "written")).isEqualTo(requests));
    }
    Path file = logFile();
    List<Path> rotated;
    try (Stream<Path> files = Files.list(dir)) {
      rotated = files.filter(p -> p.getFileName().toString().startsWith("access.log.")).sorted().toList();
    }
    assertThat(rotated).extracting(p -> p.getFileName().toString()).contains("access.log.1.gz")
        .allMatch(name -> name.matches("access\\.log\\.[12]\\.gz"), "access.log.1.gz or access.log.2.gz");
    assertThat(rotated).hasSizeLessThanOrEqualTo(2);
    int rotatedLines = 0;
    for (Path gz : rotated) {
      String text;
      try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      assertThat(text).as(gz.toString()).isNotEmpty().endsWith("\n");
      for (String line : text.split("\n")) {
        assertThat(JSON.readTree(line).get("path").asText()).startsWith("/rotate/");
        rotatedLines++;
      }
    }
    assertThat(rotatedLines).isPositive();
    List<JsonNode> current = lines(file);
    assertThat(current).as("the newest lines stay in the current file").isNotEmpty();
    assertThat(current.get(current.size() - 1).get("path").asText()).startsWith("/rotate/" + (requests - 1) + "/");
    assertThat(Files.size(file)).isLessThanOrEqualTo(2048 + 1024);
  }

  @Test
  void aClientTraceIsContinuedWithANewParentId() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("traced"));
        ProxyFixture proxy = start(backend.port(), "")) {
      get(proxy, "/traced", "traceparent", CLIENT_TRACEPARENT, "tracestate", "congo=t61rcWkgMzE");
      TestBackend.Request received = backend.requests().get(0);
      String sent = received.header("traceparent");
      assertThat(sent).matches(TRACEPARENT).startsWith("00-" + CLIENT_TRACE + "-").endsWith("-01")
          .isNotEqualTo(CLIENT_TRACEPARENT);
      assertThat(received.headers().getAll("traceparent")).hasSize(1);
      assertThat(received.header("tracestate")).isEqualTo("congo=t61rcWkgMzE");
      assertThat(awaitLines(1).get(0).get("trace_id").asText()).isEqualTo(CLIENT_TRACE);
    }
  }

  @Test
  void anInvalidClientTraceIsReplacedAndItsTracestateDropped() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("traced"));
        ProxyFixture proxy = start(backend.port(), "")) {
      get(proxy, "/bad-trace", "traceparent", CLIENT_TRACEPARENT.toUpperCase(java.util.Locale.ROOT),
          "tracestate", "congo=t61rcWkgMzE");
      TestBackend.Request received = backend.requests().get(0);
      String sent = received.header("traceparent");
      assertThat(sent).matches(TRACEPARENT).doesNotContain(CLIENT_TRACE).endsWith("-00");
      assertThat(received.header("tracestate")).isNull();
      assertThat(awaitLines(1).get(0).get("trace_id").asText()).isEqualTo(sent.substring(3, 35));
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aRequestWithoutTraceStartsOneFlaggedAsSampleNewSays(boolean sampleNew) throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("traced"));
        ProxyFixture proxy = start(backend.port(), "meridian.tracing.sample-new = " + sampleNew + "\n")) {
      get(proxy, "/one");
      get(proxy, "/two");
      String first = backend.requests().get(0).header("traceparent");
      String second = backend.requests().get(1).header("traceparent");
      assertThat(first).matches(TRACEPARENT).endsWith(sampleNew ? "-01" : "-00");
      assertThat(second).matches(TRACEPARENT).endsWith(sampleNew ? "-01" : "-00");
      assertThat(first.substring(3, 35)).as("each request its own trace").isNotEqualTo(second.substring(3, 35));
      List<JsonNode> lines = awaitLines(2);
      assertThat(lines.get(0).get("trace_id").asText()).isEqualTo(first.substring(3, 35));
      assertThat(lines.get(1).get("trace_id").asText()).isEqualTo(second.substring(3, 35));
    }
  }

  @Test
  void withTracingOffTraceHeadersPassUntouched() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("untraced"));
        ProxyFixture proxy = start(backend.port(), "meridian.tracing.enabled = false\n")) {
      String invalid = "00-" + CLIENT_TRACE.toUpperCase(java.util.Locale.ROOT) + "-00f067aa0ba902b7-01";
      get(proxy, "/kept", "traceparent", CLIENT_TRACEPARENT, "tracestate", "congo=t61rcWkgMzE");
      get(proxy, "/invalid-kept", "traceparent", invalid, "tracestate", "rojo=1");
      get(proxy, "/none");
      List<TestBackend.Request> received = backend.requests();
      assertThat(received.get(0).header("traceparent")).isEqualTo(CLIENT_TRACEPARENT);
      assertThat(received.get(0).header("tracestate")).isEqualTo("congo=t61rcWkgMzE");
      assertThat(received.get(1).header("traceparent")).isEqualTo(invalid);
      assertThat(received.get(1).header("tracestate")).isEqualTo("rojo=1");
      assertThat(received.get(2).header("traceparent")).isNull();
      assertThat(awaitLines(3)).allSatisfy(line -> assertThat(line.has("trace_id")).isFalse());
    }
  }

  @Test
  void theEdgeCacheSaysWhatItDid() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("cached body"));
        ProxyFixture proxy = start(backend.port(), """
            meridian.routes = [ { name = "cached", path-prefix = "/", backend-group = "app", cache { ttl = 60s } } ]
            """)) {
      assertThat(get(proxy, "/c").body()).isEqualTo("cached body");
      assertThat(get(proxy, "/c").body()).isEqualTo("cached body");
      List<JsonNode> lines = awaitLines(2);
      assertThat(lines.get(0).get("cache").asText()).isEqualTo("MISS");
      assertThat(lines.get(0).get("attempts").asInt()).isEqualTo(1);
      assertThat(lines.get(0).get("route").asText()).isEqualTo("cached");
      JsonNode hit = lines.get(1);
      assertThat(hit.get("cache").asText()).isEqualTo("HIT");
      assertThat(hit.get("status").asInt()).isEqualTo(200);
      assertThat(hit.get("attempts").asInt()).as("no backend tried").isZero();
      assertThat(hit.has("backend")).isFalse();
      assertThat(hit.has("upstream_ms")).isFalse();
      assertThat(hit.get("bytes_out").asLong()).isEqualTo("cached body".length());
      assertThat(backend.requests()).hasSize(1);
    }
  }

  @Test
  void decisionsAreRecordedWhenAskedForWithoutDebugHeaders() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("decided"));
        ProxyFixture proxy = start(backend.port(), "meridian.access-log.decisions = true\n")) {
      HttpResponse<String> response = get(proxy, "/decide");
      assertThat(response.headers().firstValue("x-meridian-decision")).as("debug headers stay off").isEmpty();
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("decision").asText()).isNotBlank();
    }
  }

  @Test
  void theQueryAndTheRefererAreLoggedAndTheQueryCanBeLeftOut() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("q"));
        ProxyFixture proxy = start(backend.port(), "")) {
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/search?q=a%20b&page=2"))
          .header("Referer", "https://example.com/from").timeout(Duration.ofSeconds(10)).build();
      assertThat(HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("path").asText()).isEqualTo("/search");
      assertThat(line.get("query").asText()).isEqualTo("q=a%20b&page=2");
      assertThat(line.get("referer").asText()).isEqualTo("https://example.com/from");
    }
  }

  /** A backend that answers 10 bytes of a 100-byte body, then closes. */
  private static dev.meridian.proxy.testing.RawTcpBackend cuttingOff() throws IOException {
    return dev.meridian.proxy.testing.RawTcpBackend.start(socket -> {
      dev.meridian.proxy.testing.RawTcpBackend.readHead(socket.getInputStream());
      socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"
          .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
    });
  }

  /** A response the backend cut off is logged with its status, the bytes that went, and cut_off. */
  @Test
  void aResponseCutOffMidBodyIsMarkedSo() throws Exception {
    try (dev.meridian.proxy.testing.RawTcpBackend backend = cuttingOff();
        ProxyFixture proxy = start(backend.address().getPort(), "");
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET /cut HTTP/1.1\r\nHost: test\r\n\r\n");
      org.assertj.core.api.Assertions.assertThatThrownBy(client::readResponse).as("the body never ends")
          .isInstanceOf(IOException.class);
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("status").asInt()).isEqualTo(200);
      assertThat(line.get("bytes_out").asLong()).isEqualTo(10);
      assertThat(line.get("cut_off").asBoolean()).isTrue();
      assertThat(line.get("reason").asText()).as("why it was cut off")
          .isEqualTo("backend b1 closed the connection mid-response");
    }
    // Over HTTP/2 the stream is reset INTERNAL_ERROR: a failure (gRPC: INTERNAL), not CANCEL (the
    // caller cancelled).
    try (dev.meridian.proxy.testing.RawTcpBackend backend = cuttingOff();
        ProxyFixture proxy = start(backend.address().getPort(), "");
        dev.meridian.proxy.testing.RawHttp2Client h2 = new dev.meridian.proxy.testing.RawHttp2Client(proxy.port()).lenient()) {
      h2.get(1, "/cut-h2");
      h2.readUntil(c -> c.resetError(1) != null);
      assertThat(h2.status(1)).isEqualTo("200");
      assertThat(h2.dataBytes(1)).isEqualTo(10);
      assertThat(h2.resetError(1)).as("INTERNAL_ERROR").isEqualTo(2L);
      JsonNode line = awaitLines(2).get(1);
      assertThat(line.get("cut_off").asBoolean()).isTrue();
      assertThat(line.get("reason").asText()).isEqualTo("backend b1 closed the connection mid-response");
    }
    try (TestBackend whole = TestBackend.start(TestBackend.ok("whole"));
        ProxyFixture proxy = start(whole.port(), "")) {
      get(proxy, "/whole");
      assertThat(awaitLines(3).get(2).has("cut_off")).as("a whole response has no cut_off").isFalse();
    }
  }

  /** A WebSocket's line is written when it closes: 101, the bytes each way, the time it was open. */
  @Test
  void aTunnelIsLoggedWhenItClosesWithItsBytesEachWay() throws Exception {
    try (dev.meridian.proxy.testing.RawTcpBackend backend = dev.meridian.proxy.testing.RawTcpBackend.start(socket -> {
          InputStream in = socket.getInputStream();
          dev.meridian.proxy.testing.RawTcpBackend.readHead(in);
          OutputStream out = socket.getOutputStream();
          out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
              + "hello").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          in.transferTo(out);
        });
        ProxyFixture proxy = start(backend.address().getPort(), "");
        RawHttpClient ws = RawHttpClient.connect(proxy.port())) {
      ws.send("GET /chat HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
      assertThat(ws.readResponse().status()).isEqualTo(101);
      assertThat(new String(ws.readBytes(5), StandardCharsets.US_ASCII)).isEqualTo("hello");
      ws.send("ping-12345");
      assertThat(new String(ws.readBytes(10), StandardCharsets.US_ASCII)).isEqualTo("ping-12345");
      assertThat(lines(logFile())).as("nothing logged while the tunnel is open").isEmpty();

      ws.socket().close();
      JsonNode line = awaitLines(1).get(0);
      await().atMost(Duration.ofSeconds(5)).until(() -> proxy.instance().proxy().metrics().clientConnections() == 0
          && proxy.instance().proxy().metrics().openTunnels() == 0);
      assertThat(line.get("status").asInt()).isEqualTo(101);
      assertThat(line.get("bytes_in").asLong()).isEqualTo(10);
      assertThat(line.get("bytes_out").asLong()).isEqualTo(15);
      assertThat(line.get("path").asText()).isEqualTo("/chat");
      // The metrics count the tunnel's bytes each way too, when it closes (they counted 0 at its 101).
      io.micrometer.core.instrument.MeterRegistry registry = proxy.instance().proxy().metrics().registry();
      assertThat(registry.get("meridian.request.bytes").tag("route", "all").counter().count()).isEqualTo(10);
      assertThat(registry.get("meridian.response.bytes").tag("route", "all").counter().count()).isEqualTo(15);
    }
  }

  @Test
  void debugHeadersAloneLeaveDecisionsOutOfTheLog() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("decided"));
        ProxyFixture proxy = start(backend.port(), "meridian.debug-headers = true\n")) {
      HttpResponse<String> response = get(proxy, "/decide");
      assertThat(response.headers().firstValue("x-meridian-decision")).as("the debug header is on").isPresent();
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.has("decision")).as("access-log.decisions is off").isFalse();
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aTlsConnectionLogsItsVersionAndServerName(boolean sendSni) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir.resolve("cert"));
    SSLContext ssl = TrustingSsl.trusting(cert);
    try (TestBackend backend = TestBackend.start(TestBackend.ok("secure"));
        ProxyFixture proxy = start(backend.port(), """
            meridian.listeners = [ { name = "tls", address = "127.0.0.1:0", tls { certificates = [
              { cert = "%s", key = "%s" } ] } } ]
            """.formatted(cert.cert(), cert.key()))) {
      String protocol;
      String answer;
      try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", proxy.port())) {
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(sendSni ? List.of(new SNIHostName("localhost")) : List.of());
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        protocol = socket.getSession().getProtocol();
        OutputStream out = socket.getOutputStream();
        out.write("GET /secure HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      }
      assertThat(answer).startsWith("HTTP/1.1 200");
      assertThat(protocol).isIn("TLSv1.3", "TLSv1.2");
      JsonNode line = awaitLines(1).get(0);
      assertThat(line.get("tls").asText()).isEqualTo(protocol);
      if (sendSni) {
        assertThat(line.get("sni").asText()).isEqualTo("localhost");
      } else {
        assertThat(line.has("sni")).isFalse();
      }
      assertThat(line.get("status").asInt()).isEqualTo(200);
    }
  }

  @Test
  void anAccessLogThatIsOffWritesNothingAndHasNoMeter() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("quiet"));
        ProxyFixture proxy = start(backend.port(), "meridian.access-log.enabled = false\n")) {
      assertThat(get(proxy, "/quiet").statusCode()).isEqualTo(200);
      assertThat(linesCounter(proxy, "written")).as("no meter").isEqualTo(-1);
    }
    assertThat(logFile()).doesNotExist();
  }
}
