package dev.meridian.proxy.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.BackendProcess;
import dev.meridian.proxy.testing.ManualClock;
import dev.meridian.proxy.testing.TestBackend;
import io.micrometer.core.instrument.Counter;
import io.netty.handler.codec.DateFormatter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The edge cache end to end: real clients, a real origin that counts what reaches it, time on an
 * injected clock.
 */
class EdgeCacheTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private final ManualClock clock = new ManualClock();
  private final Map<String, AtomicInteger> originCount = new ConcurrentHashMap<>();
  private final List<TestBackend> origins = new ArrayList<>();
  private final List<BackendProcess> processes = new ArrayList<>();
  private MeridianInstance proxy;

  /** What a client saw. */
  private record Answer(int status, String body, String xCache, String age, Map<String, List<String>> headers) {
    String header(String name) {
      List<String> v = headers.get(name.toLowerCase());
      return v == null || v.isEmpty() ? null : v.get(0);
    }
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    origins.forEach(TestBackend::close);
    for (BackendProcess p : processes) {
      p.close();
    }
  }

  /** An origin that counts requests by path and answers with what {@code reply} makes of the request. */
  private TestBackend origin(Function<TestBackend.Request, TestBackend.Reply> reply) {
    TestBackend origin = TestBackend.start(request -> {
      originCount.computeIfAbsent(request.uri(), u -> new AtomicInteger()).incrementAndGet();
      return reply.apply(request);
    });
    origins.add(origin);
    return origin;
  }

  private int count(String uri) {
    AtomicInteger n = originCount.get(uri);
    return n == null ? 0 : n.get();
  }

  private void start(int originPort, String cache) throws Exception {
    start("{ address = \"127.0.0.1:" + originPort + "\" }", "{ name = \"static\", path-prefix = \"/\", backend-group = \"app\","
        + " cache { " + cache + " } }");
  }

  private void start(String backends, String routes) throws Exception {
    start(backends, routes, "");
  }

  private void start(String backends, String routes, String more) throws Exception {
    String hocon = "meridian {\n"
        + more + "\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  timeouts { connect = 1s, response-headers = 2s }\n"
        + "  cache { max-size = 4MiB, max-object-size = 64KiB }\n"
        + "  backend-groups { app { backends = [ " + backends + " ] } }\n"
        + "  routes = [ " + routes + " ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "cache-test"), clock).start();
  }

  private Answer get(String path, String... headers) throws Exception {
    return send("GET", "127.0.0.1", path, headers);
  }

  private Answer send(String method, String host, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + path))
        .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r.body(), r.headers().firstValue("x-cache").orElse(null),
        r.headers().firstValue("age").orElse(null), r.headers().map());
  }

  /** Sends {@code n} GETs at once (a connection each) and waits for every answer. */
  private List<HttpResponse<String>> concurrently(String path, int n) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + path);
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      pending.add(http.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    List<HttpResponse<String>> answers = new ArrayList<>();
    for (var p : pending) {
      answers.add(p.get(15, TimeUnit.SECONDS));
    }
    return answers;
  }

  private double counter(String name, String... tags) {
    Counter c = proxy.proxy().metrics().registry().find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  private static String httpDate(long offsetSeconds) {
    return DateFormatter.format(new Date(System.currentTimeMillis() + offsetSeconds * 1000));
  }

  @Test
  void aFreshAnswerIsServedFromTheCacheForItsTtlOnTheInjectedClock() throws Exception {
    AtomicInteger version = new AtomicInteger();
    TestBackend origin = origin(r -> TestBackend.Reply.ok("v" + version.incrementAndGet()));
    start(origin.port(), "ttl = 60s");

    Answer miss = get("/a.css");
    assertThat(miss.body()).isEqualTo("v1");
    assertThat(miss.xCache()).isEqualTo("MISS");
    Answer hit = get("/a.css");
    assertThat(hit.body()).isEqualTo("v1");
    assertThat(hit.xCache()).isEqualTo("HIT");
    assertThat(hit.age()).isEqualTo("0");
    assertThat(hit.header("content-length")).isEqualTo("2");

    clock.advance(Duration.ofSeconds(59));
    assertThat(get("/a.css").age()).isEqualTo("59");
    assertThat(count("/a.css")).isEqualTo(1);

    clock.advance(Duration.ofSeconds(1));
    Answer expired = get("/a.css");
    assertThat(expired.xCache()).isEqualTo("EXPIRED");
    assertThat(expired.body()).isEqualTo("v2");
    assertThat(get("/a.css").body()).isEqualTo("v2");
    assertThat(count("/a.css")).isEqualTo(2);
    assertThat(counter("meridian.cache.requests", "route", "static", "result", "hit")).isEqualTo(3);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "s-maxage wins over max-age | s-maxage=10, max-age=100 | | 10",
      "max-age | max-age=20 | | 20",
      "Age counts against max-age | max-age=20 | 15 | 5",
      "Expires minus Date | EXPIRES30 | | 30"})
  void theOriginsFreshnessWinsOverTheTtl(String name, String cacheControl, String age, long lifetime) throws Exception {
    TestBackend origin = origin(r -> {
      TestBackend.Reply reply = TestBackend.Reply.ok("x").header("Date", httpDate(0));
      if (cacheControl.equals("EXPIRES30")) {
        reply = reply.header("Expires", httpDate(30));
      } else {
        reply = reply.header("Cache-Control", cacheControl);
      }
      return age == null ? reply : reply.header("Age", age);
    });
    start(origin.port(), "ttl = 1h");

    assertThat(get("/f").xCache()).isEqualTo("MISS");
    // Date has a one-second resolution: the lifetime may start up to a second early.
    clock.advance(Duration.ofSeconds(lifetime - 2));
    assertThat(get("/f").xCache()).as("before its lifetime ends").isEqualTo("HIT");
    clock.advance(Duration.ofSeconds(2));
    assertThat(get("/f").xCache()).as("after its lifetime").isEqualTo("EXPIRED");
  }

  @Test
  void withoutHonorOriginTheTtlDecides() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("x").header("Cache-Control", "max-age=5"));
    start(origin.port(), "ttl = 60s, honor-origin = false");
    get("/t");
    clock.advance(Duration.ofSeconds(59));
    assertThat(get("/t").xCache()).isEqualTo("HIT");
    assertThat(count("/t")).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Set-Cookie: s=1", "Set-Cookie2: s=1", "Vary: *", "Cache-Control: no-store", "Cache-Control: private",
      "Cache-Control: no-cache", "Cache-Control: max-age=0", "status 500", "status 302"})
  void anAnswerThatMustNotBeSharedIsNeverStored(String what) throws Exception {
    TestBackend origin = origin(r -> {
      if (what.startsWith("status ")) {
        return TestBackend.Reply.status(Integer.parseInt(what.substring(7))).body("x");
      }
      int colon = what.indexOf(':');
      return TestBackend.Reply.ok("x").header(what.substring(0, colon), what.substring(colon + 2));
    });
    start(origin.port(), "ttl = 60s");
    for (int i = 0; i < 3; i++) {
      assertThat(get("/n").xCache()).isEqualTo("MISS");
    }
    assertThat(count("/n")).isEqualTo(3);
  }

  @Test
  void varyKeepsVariantsApart() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("body for " + r.header("accept-encoding"))
        .header("Vary", "Accept-Encoding"));
    start(origin.port(), "ttl = 60s");
    assertThat(get("/v", "Accept-Encoding", "gzip").body()).isEqualTo("body for gzip");
    assertThat(get("/v", "Accept-Encoding", "br").body()).isEqualTo("body for br");
    Answer gzip = get("/v", "Accept-Encoding", "gzip");
    assertThat(gzip.xCache()).isEqualTo("HIT");
    assertThat(gzip.body()).isEqualTo("body for gzip");
    Answer br = get("/v", "Accept-Encoding", "br");
    assertThat(br.xCache()).isEqualTo("HIT");
    assertThat(br.body()).isEqualTo("body for br");
    assertThat(count("/v")).isEqualTo(2);
  }

  /**
   * The request values a variant is stored for count against max-size, and a variant for values
   * longer than any browser sends is not stored: a client filling Accept-Encoding with 30 KB per
   * request made each its own variant, holding 30 KB of heap the bound did not count, until the heap
   * ran out (from an attack).
   */
  @Test
  void aVariantsRequestValuesCountAndHugeOnesAreNotStored() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("x").header("Vary", "Accept-Encoding"));
    start(origin.port(), "ttl = 60s");
    get("/w", "Accept-Encoding", "gzip");
    long small = proxy.proxy().cache().bytes();
    get("/w", "Accept-Encoding", "a".repeat(2000));
    assertThat(proxy.proxy().cache().bytes() - small).as("the second variant's 2000 characters counted")
        .isGreaterThan(4000);
    String huge = "b".repeat(5000);
    assertThat(get("/w", "Accept-Encoding", huge).xCache()).isEqualTo("MISS");
    assertThat(get("/w", "Accept-Encoding", huge).xCache()).as("not stored").isEqualTo("MISS");
    assertThat(get("/w", "Accept-Encoding", "gzip").xCache()).isEqualTo("HIT");
    assertThat(count("/w")).isEqualTo(4);
    assertThat(counter("meridian.cache.not.stored", "route", "static", "reason", "vary-too-long")).isEqualTo(2);
  }

  @Test
  void aRequestWithASessionCookieIsNeitherServedFromNorStoredInTheCache() throws Exception {
    // A deceived origin: /account/x.css answers the account page, and marks it cacheable.
    TestBackend origin = origin(r -> TestBackend.Reply.ok(r.header("cookie") == null ? "please log in"
        : "account of " + r.header("cookie")).header("Cache-Control", "max-age=600"));
    start(origin.port(), "ttl = 60s");

    Answer victim = get("/account/x.css", "Cookie", "session=victim");
    assertThat(victim.body()).isEqualTo("account of session=victim");
    assertThat(victim.xCache()).isEqualTo("BYPASS");
    Answer attacker = get("/account/x.css");
    assertThat(attacker.body()).isEqualTo("please log in");
    assertThat(attacker.xCache()).isEqualTo("MISS");
    assertThat(get("/account/x.css", "Cookie", "session=other").body()).isEqualTo("account of session=other");
    // (Over a socket: the JDK client drops Proxy-Authorization when it uses no proxy.)
    assertThat(rawGet("127.0.0.1", "/account/x.css", "Proxy-Authorization: Basic dTpw").xCache())
        .as("credentials for a proxy on the way are as personal").isEqualTo("BYPASS");
    assertThat(counter("meridian.cache.bypasses", "reason", "authenticated")).isEqualTo(3);
  }

  @Test
  void anUnkeyedHeaderTheOriginReflectsCannotPoisonAnotherClientsAnswer() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("<script src=//" + r.header("x-forwarded-host")
        + "/app.js> " + (r.header("x-original-url") == null ? "" : r.header("x-original-url")))
        .header("Cache-Control", "max-age=600"));
    start(origin.port(), "ttl = 60s");

    Answer attack = get("/home", "X-Forwarded-Host", "evil.example", "X-Original-URL", "/admin");
    assertThat(attack.body()).doesNotContain("evil.example");
    assertThat(attack.xCache()).as("an override header bypasses the cache").isEqualTo("BYPASS");
    Answer hostOnly = get("/home", "X-Forwarded-Host", "evil.example");
    assertThat(hostOnly.body()).as("Meridian sets X-Forwarded-Host itself").startsWith("<script src=//127.0.0.1:");
    Answer victim = get("/home");
    assertThat(victim.body()).doesNotContain("evil").doesNotContain("/admin");
  }

  /** CGI, WSGI and Rack read X_Original_URL as X-Original-URL: the spelling must not slip past the bypass. */
  @Test
  void anOverrideHeaderSpelledWithUnderscoresBypassesTheCacheAndASchemeClaimNeverReachesTheOrigin() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("page " + r.header("x_original_url")
        + " ssl " + r.header("x-forwarded-ssl")).header("Cache-Control", "max-age=600"));
    start(origin.port(), "ttl = 60s");

    Answer attack = get("/home", "X_Original_URL", "/evil");
    assertThat(attack.xCache()).as("an override header spelled with _ bypasses the cache").isEqualTo("BYPASS");
    assertThat(get("/home", "X-Forwarded-Ssl", "on").body()).as("a client's scheme claim is dropped")
        .isEqualTo("page null ssl null");
    assertThat(get("/home").body()).as("what the attack shaped was never stored").isEqualTo("page null ssl null");
  }

  /**
   * A WSGI-style origin reads {@code Accept_Language} as {@code Accept-Language}: a request carrying it
   * must not store the answer it shaped under the plain browser variant (Vary) or key (key-headers).
   */
  @Test
  void anUnderscoreSpellingOfAVariedOrKeyedHeaderCannotStoreTheAnswerItShaped() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("page in " + (r.header("accept_language") != null
        ? r.header("accept_language") : r.header("accept-language"))).header("Vary",
        r.uri().startsWith("/vary") ? "Accept-Language" : "Accept-Encoding"));
    start("{ address = \"127.0.0.1:" + origin.port() + "\" }",
        "{ name = \"keyed\", path-prefix = \"/keyed\", backend-group = \"app\","
            + " cache { ttl = 60s, key-headers = [Accept-Language] } },"
            + " { name = \"vary\", path-prefix = \"/vary\", backend-group = \"app\", cache { ttl = 60s } }");
    for (String path : List.of("/vary/home", "/keyed/home")) {
      Answer attack = get(path, "Accept_Language", "de", "Accept-Language", "en");
      assertThat(attack.body()).as(path).isEqualTo("page in de");
      Answer victim = get(path, "Accept-Language", "en");
      assertThat(victim.body()).as(path).isEqualTo("page in en");
      assertThat(victim.xCache()).as(path).isEqualTo("MISS");
      assertThat(get(path, "Accept-Language", "en").xCache()).as("%s: the plain variant is stored", path)
          .isEqualTo("HIT");
    }
    assertThat(counter("meridian.cache.not.stored", "route", "vary", "reason", "ambiguous-header")).isEqualTo(1);
    assertThat(counter("meridian.cache.bypasses", "route", "keyed", "reason", "ambiguous-header")).isEqualTo(1);
  }

  /** A GET with a body (which Rack and others read as parameters) bypasses the cache: the body is not keyed. */
  @Test
  void aGetWithABodyBypassesTheCache() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("results for "
        + new String(r.body(), StandardCharsets.UTF_8)).header("Cache-Control", "max-age=600"));
    start(origin.port(), "ttl = 60s");
    HttpResponse<String> attack = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + proxy.listenerAddresses().get(0).getPort() + "/search"))
        .method("GET", HttpRequest.BodyPublishers.ofString("q=EVIL")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(attack.body()).isEqualTo("results for q=EVIL");
    assertThat(attack.headers().firstValue("x-cache")).contains("BYPASS");
    Answer victim = get("/search");
    assertThat(victim.body()).isEqualTo("results for ");
    assertThat(victim.xCache()).isEqualTo("MISS");
  }

  /**
   * RFC 9111 section 4.4: an unsafe request that succeeds removes the entries of its URL, also when
   * it takes another route than the cached reads (a write route beside them); a failed one does not.
   */
  @Test
  void aSuccessfulUnsafeRequestInvalidatesItsUrlAndAFailedOneDoesNot() throws Exception {
    java.util.concurrent.atomic.AtomicInteger version = new java.util.concurrent.atomic.AtomicInteger(1);
    TestBackend origin = origin(r -> switch (r.method()) {
      case "GET" -> TestBackend.Reply.ok("item v" + version.get()).header("Vary", "Accept-Encoding");
      case "DELETE" -> TestBackend.Reply.status(503);
      default -> {
        version.incrementAndGet();
        yield TestBackend.Reply.ok("updated");
      }
    });
    start("{ address = \"127.0.0.1:" + origin.port() + "\" }",
        "{ name = \"static\", methods = [GET], backend-group = \"app\", cache { ttl = 60s } },"
            + " { name = \"writes\", backend-group = \"app\" }");
    get("/item/1", "Accept-Encoding", "gzip");
    get("/item/1", "Accept-Encoding", "br");
    get("/item/2");
    assertThat(get("/item/1", "Accept-Encoding", "gzip").xCache()).isEqualTo("HIT");

    assertThat(send("PUT", "127.0.0.1", "/item/1").body()).isEqualTo("updated");

    Answer after = get("/item/1", "Accept-Encoding", "br");
    assertThat(after.xCache()).as("every variant of the URL went").isEqualTo("MISS");
    assertThat(after.body()).isEqualTo("item v2");
    assertThat(get("/item/2").xCache()).as("another URL stays").isEqualTo("HIT");
    assertThat(counter("meridian.cache.invalidations", "route", "static")).isEqualTo(2);

    assertThat(send("DELETE", "127.0.0.1", "/item/2").status()).isEqualTo(503);
    assertThat(get("/item/2").xCache()).as("a failed unsafe request changes nothing").isEqualTo("HIT");
  }

  @Test
  void twoRoutesWithTheSamePathOnDifferentHostsNeverShareAnEntry() throws Exception {
    TestBackend a = origin(r -> TestBackend.Reply.ok("from a"));
    TestBackend b = origin(r -> TestBackend.Reply.ok("from b"));
    String hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n  admin { address = \"127.0.0.1:0\" }\n"
        + "  backend-groups { a { backends = [ { address = \"127.0.0.1:" + a.port() + "\" } ] }\n"
        + "                   b { backends = [ { address = \"127.0.0.1:" + b.port() + "\" } ] } }\n"
        + "  routes = [ { name = ra, host = \"a.test\", backend-group = a, cache { ttl = 60s } }\n"
        + "             { name = rb, host = \"b.test\", backend-group = b, cache { ttl = 60s } }\n"
        + "             { name = rc, path-prefix = \"/\", backend-group = b, cache { ttl = 60s } } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "cache-test"), clock).start();
    assertThat(viaHost("a.test", "/same").body()).isEqualTo("from a");
    assertThat(viaHost("b.test", "/same").body()).isEqualTo("from b");
    assertThat(viaHost("a.test", "/same").body()).isEqualTo("from a");
    assertThat(viaHost("b.test", "/same").xCache()).isEqualTo("HIT");
    assertThat(proxy.proxy().cache().entryCount()).isEqualTo(2);
  }

  /**
   * An origin that matches virtual hosts exactly (Express's vhost, Go's host patterns) answers
   * "a.test." or "A.TEST:80" otherwise than "a.test": on a cached route the Host goes to the origin
   * as the key holds it (lower case, no trailing dot or default port), so no spelling can shape an
   * answer stored for the others, nor make keys of its own.
   */
  @Test
  void aHostSpelledOtherwiseReachesTheOriginAsTheKeyHoldsIt() throws Exception {
    TestBackend origin = origin(r -> "a.test".equals(r.header("host")) ? TestBackend.Reply.ok("site a")
        : TestBackend.Reply.status(404).body("no site " + r.header("host")));
    start(origin.port(), "ttl = 60s");
    Answer first = rawGet("a.test.", "/home");
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.body()).isEqualTo("site a");
    for (String spelling : List.of("A.TEST", "a.test:80", "a.test")) {
      Answer again = rawGet(spelling, "/home");
      assertThat(again.body()).as(spelling).isEqualTo("site a");
      assertThat(again.xCache()).as(spelling).isEqualTo("HIT");
    }
    assertThat(count("/home")).isEqualTo(1);
    assertThat(purge("url=http://a.test/home").path("purged").intValue()).isEqualTo(1);
  }

  private Answer viaHost(String host, String path) throws Exception {
    // The JDK client sets Host from the URI; curl-like control of Host needs a raw request.
    return rawGet(host, path);
  }

  /** A GET with this Host and these header lines ({@code "Name: value"}), over a socket of its own. */
  private Answer rawGet(String host, String path, String... headerLines) throws IOException {
    StringBuilder extra = new StringBuilder();
    for (String line : headerLines) {
      extra.append(line).append("\r\n");
    }
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.listenerAddresses().get(0).getPort())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "Connection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String text = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      String head = text.substring(0, end);
      Map<String, List<String>> headers = new java.util.HashMap<>();
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(), k -> new ArrayList<>())
              .add(line.substring(colon + 1).trim());
        }
      }
      int status = Integer.parseInt(head.substring(9, 12));
      return new Answer(status, text.substring(end + 4), headers.getOrDefault("x-cache", List.of()).stream()
          .findFirst().orElse(null), null, headers);
    }
  }

  @Test
  void aFreshEntryAnswersConditionalRequestsWith304AndHeadWithItsHeaders() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("0123456789").header("ETag", "\"v1\"")
        .header("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT").header("Cache-Control", "max-age=60"));
    start(origin.port(), "ttl = 60s");
    get("/c");

    Answer notModified = get("/c", "If-None-Match", "\"v0\", W/\"v1\"");
    assertThat(notModified.status()).isEqualTo(304);
    assertThat(notModified.body()).isEmpty();
    assertThat(notModified.header("etag")).isEqualTo("\"v1\"");
    assertThat(get("/c", "If-None-Match", "\"v2\"").status()).isEqualTo(200);
    assertThat(get("/c", "If-Modified-Since", "Wed, 02 Dec 2026 10:00:00 GMT").status()).isEqualTo(304);
    assertThat(get("/c", "If-Modified-Since", "Mon, 30 Nov 2026 10:00:00 GMT").status()).isEqualTo(200);

    Answer head = send("HEAD", "127.0.0.1", "/c");
    assertThat(head.status()).isEqualTo(200);
    assertThat(head.xCache()).isEqualTo("HIT");
    assertThat(head.header("content-length")).isEqualTo("10");
    assertThat(count("/c")).isEqualTo(1);
  }

  @Test
  void aStaleEntryWithAnETagIsRevalidatedAndTheOrigins304RefreshesIt() throws Exception {
    List<String> validators = new java.util.concurrent.CopyOnWriteArrayList<>();
    TestBackend origin = origin(r -> {
      validators.add(String.valueOf(r.header("if-none-match")));
      return "\"v1\"".equals(r.header("if-none-match"))
          ? TestBackend.Reply.status(304).header("ETag", "\"v1\"").header("Cache-Control", "max-age=10")
          : TestBackend.Reply.ok("body one").header("ETag", "\"v1\"").header("Cache-Control", "max-age=10")
              .header("X-Origin-Note", "kept from the first answer");
    });
    start(origin.port(), "ttl = 60s");
    assertThat(get("/r").xCache()).isEqualTo("MISS");
    clock.advance(Duration.ofSeconds(11));

    Answer revalidated = get("/r");
    assertThat(revalidated.status()).isEqualTo(200);
    assertThat(revalidated.xCache()).isEqualTo("REVALIDATED");
    assertThat(revalidated.body()).isEqualTo("body one");
    assertThat(revalidated.header("x-origin-note")).isEqualTo("kept from the first answer");
    assertThat(validators).containsExactly("null", "\"v1\"");
    clock.advance(Duration.ofSeconds(9));
    assertThat(get("/r").xCache()).as("the 304 gave the entry ten more seconds").isEqualTo("HIT");
    assertThat(count("/r")).isEqualTo(2);
    assertThat(counter("meridian.cache.requests", "result", "revalidated")).isEqualTo(1);
  }

  @Test
  void staleWhileRevalidateAnswersAtOnceAndRefreshesOnceInTheBackground() throws Exception {
    AtomicInteger version = new AtomicInteger(1);
    TestBackend origin = origin(r -> TestBackend.Reply.ok("version " + version.get())
        .header("Cache-Control", "max-age=10").delay(Duration.ofMillis(300)));
    start(origin.port(), "ttl = 60s, stale-while-revalidate = 1m");
    get("/swr");
    version.set(2);
    clock.advance(Duration.ofSeconds(15));

    for (HttpResponse<String> r : concurrently("/swr", 10)) {
      assertThat(r.body()).as("the stale entry, at once").isEqualTo("version 1");
      assertThat(r.headers().firstValue("x-cache")).contains("STALE");
      assertThat(r.headers().firstValue("age")).contains("15");
    }
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> proxy.proxy().cache().misses().inFlight() == 0);
    Answer refreshed = get("/swr");
    assertThat(refreshed.body()).isEqualTo("version 2");
    assertThat(refreshed.xCache()).isEqualTo("HIT");
    assertThat(count("/swr")).as("one background refresh for ten stale answers").isEqualTo(2);

    clock.advance(Duration.ofSeconds(71));
    Answer tooOld = get("/swr");
    assertThat(tooOld.xCache()).as("past stale-while-revalidate: the origin answers").isEqualTo("EXPIRED");
  }

  @Test
  void aChangedAnswerReplacesTheStaleEntry() throws Exception {
    AtomicInteger version = new AtomicInteger(1);
    TestBackend origin = origin(r -> {
      String etag = "\"v" + version.get() + "\"";
      return etag.equals(r.header("if-none-match")) ? TestBackend.Reply.status(304).header("ETag", etag)
          : TestBackend.Reply.ok("version " + version.get()).header("ETag", etag).header("Cache-Control", "max-age=10");
    });
    start(origin.port(), "ttl = 60s");
    get("/c2");
    version.set(2);
    clock.advance(Duration.ofSeconds(11));
    Answer changed = get("/c2");
    assertThat(changed.xCache()).isEqualTo("EXPIRED");
    assertThat(changed.body()).isEqualTo("version 2");
    assertThat(get("/c2").body()).isEqualTo("version 2");
    assertThat(get("/c2").xCache()).isEqualTo("HIT");
  }

  @Test
  void aNoCacheAnswerWithAValidatorIsStoredAndRevalidatedOnEveryUse() throws Exception {
    TestBackend origin = origin(r -> r.header("if-none-match") != null
        ? TestBackend.Reply.status(304).header("ETag", "\"n1\"")
        : TestBackend.Reply.ok("always ask").header("ETag", "\"n1\"").header("Cache-Control", "no-cache"));
    start(origin.port(), "ttl = 60s");
    assertThat(get("/nc").xCache()).isEqualTo("MISS");
    for (int i = 0; i < 3; i++) {
      Answer a = get("/nc");
      assertThat(a.xCache()).isEqualTo("REVALIDATED");
      assertThat(a.body()).isEqualTo("always ask");
    }
    assertThat(count("/nc")).isEqualTo(4);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "bytes=2-5 | | 206 | 2345 | bytes 2-5/10",
      "bytes=-3 | | 206 | 789 | bytes 7-9/10",
      "bytes=8- | | 206 | 89 | bytes 8-9/10",
      "bytes=5-100 | | 206 | 56789 | bytes 5-9/10",
      "bytes=20- | | 416 | '' | bytes */10",
      "bytes=0-1,4-5 | | 200 | 0123456789 | ",
      "bytes=2-5 | \"other\" | 200 | 0123456789 | ",
      "bytes=2-5 | \"e1\" | 206 | 2345 | bytes 2-5/10",
      "items=1-2 | | 200 | 0123456789 | "})
  void aRangeIsCutFromAFreshEntry(String range, String ifRange, int status, String body, String contentRange)
      throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("0123456789").header("ETag", "\"e1\""));
    start(origin.port(), "ttl = 60s");
    get("/range");
    Answer a = ifRange == null ? get("/range", "Range", range) : get("/range", "Range", range, "If-Range", ifRange);
    assertThat(a.status()).isEqualTo(status);
    assertThat(a.body()).isEqualTo(body);
    assertThat(a.header("content-range")).isEqualTo(contentRange);
    assertThat(a.xCache()).isEqualTo("HIT");
    assertThat(count("/range")).isEqualTo(1);
  }

  @Test
  void aRangeThatMissesWaitsForTheWholeAnswerToBeStoredAndIsCutFromIt() throws Exception {
    List<String> rangesSeen = java.util.Collections.synchronizedList(new ArrayList<>());
    TestBackend origin = origin(r -> {
      rangesSeen.add(String.valueOf(r.header("range")));
      return r.header("range") != null
          ? TestBackend.Reply.status(206).header("Content-Range", "bytes 0-1/10").body("01")
          : TestBackend.Reply.ok("0123456789").header("ETag", "\"v1\"");
    });
    start(origin.port(), "ttl = 60s");
    Answer safari = get("/rm", "Range", "bytes=0-1");
    assertThat(safari.status()).isEqualTo(206);
    assertThat(safari.body()).isEqualTo("01");
    assertThat(safari.header("content-range")).isEqualTo("bytes 0-1/10");
    assertThat(safari.xCache()).isEqualTo("MISS");
    assertThat(rangesSeen).as("one request, for the whole body").containsExactly("null");
    Answer seek = get("/rm", "Range", "bytes=-3");
    assertThat(seek.body()).isEqualTo("789");
    assertThat(seek.xCache()).isEqualTo("HIT");
    assertThat(get("/rm").body()).isEqualTo("0123456789");
    assertThat(count("/rm")).isEqualTo(1);
    assertThat(counter("meridian.cache.requests", "result", "miss")).isEqualTo(1);

    Answer withIfRange = get("/rm2", "Range", "bytes=0-1", "If-Range", "\"v1\"");
    assertThat(withIfRange.xCache()).as("If-Range names the origin's version: the origin judges it").isEqualTo("BYPASS");
    assertThat(get("/rm3", "Range", "bytes=0-1,4-5").xCache()).as("several ranges").isEqualTo("BYPASS");
  }

  @Test
  void rangesOfAnAnswerLargerThanTheLargestObjectGoToTheOriginWithoutEachFetchingItWhole() throws Exception {
    String big = "b".repeat(100 * 1024); // max-object-size is 64 KiB here
    List<String> rangesSeen = java.util.Collections.synchronizedList(new ArrayList<>());
    TestBackend origin = origin(r -> {
      rangesSeen.add(String.valueOf(r.header("range")));
      return r.header("range") != null
          ? TestBackend.Reply.status(206).header("Content-Range", "bytes 0-1/" + big.length()).body("bb")
          : TestBackend.Reply.ok(big);
    });
    start(origin.port(), "ttl = 60s");
    Answer first = get("/big", "Range", "bytes=0-1");
    assertThat(first.status()).isEqualTo(206);
    assertThat(first.body()).isEqualTo("bb");
    assertThat(rangesSeen).as("the whole fetch failed, then the range itself").containsExactly("null", "bytes=0-1");
    Answer second = get("/big", "Range", "bytes=0-1");
    assertThat(second.status()).isEqualTo(206);
    assertThat(second.xCache()).isEqualTo("BYPASS");
    assertThat(rangesSeen).as("no second whole fetch").hasSize(3).last().isEqualTo("bytes=0-1");
    assertThat(counter("meridian.cache.not.stored", "reason", "too-large")).isEqualTo(1);
  }

  @Test
  void aRangeForTheWholeBodyFillsTheCacheAndIsAnswered206() throws Exception {
    List<String> rangesSeen = java.util.Collections.synchronizedList(new ArrayList<>());
    TestBackend origin = origin(r -> {
      rangesSeen.add(String.valueOf(r.header("range")));
      return TestBackend.Reply.ok("0123456789").header("Accept-Ranges", "bytes");
    });
    start(origin.port(), "ttl = 60s");
    Answer first = get("/video", "Range", "bytes=0-");
    assertThat(first.status()).isEqualTo(206);
    assertThat(first.header("content-range")).isEqualTo("bytes 0-9/10");
    assertThat(first.body()).isEqualTo("0123456789");
    assertThat(first.xCache()).isEqualTo("MISS");
    assertThat(rangesSeen).as("the origin was asked for the whole body").containsExactly("null");
    Answer seek = get("/video", "Range", "bytes=4-6");
    assertThat(seek.xCache()).isEqualTo("HIT");
    assertThat(seek.status()).isEqualTo(206);
    assertThat(seek.body()).isEqualTo("456");
    Answer again = get("/video", "Range", "bytes=0-");
    assertThat(again.status()).isEqualTo(206);
    assertThat(again.header("content-range")).isEqualTo("bytes 0-9/10");
    assertThat(count("/video")).isEqualTo(1);
  }

  @Test
  void meridiansOwnStickyCookieIsNoCredentialAndKeepsTheCacheOn() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("page").header("Cache-Control", "max-age=600"));
    start("{ address = \"127.0.0.1:" + origin.port() + "\" }",
        "{ name = \"s\", path-prefix = \"/\", backend-group = \"app\", sticky { cookie = \"pin\" }, cache { ttl = 60s } }");
    Answer first = get("/page");
    String pin = first.header("set-cookie");
    assertThat(pin).startsWith("pin=");
    String cookie = pin.substring(0, pin.indexOf(';'));
    assertThat(get("/page", "Cookie", cookie).xCache()).as("a pinned client still gets the cache").isEqualTo("HIT");
    assertThat(get("/page", "Cookie", cookie + "; meridian_ryw=1").xCache()).isEqualTo("HIT");
    assertThat(get("/page", "Cookie", cookie + "; session=alice").xCache())
        .as("an application's cookie beside it is a credential").isEqualTo("BYPASS");
    assertThat(get("/page", "Cookie", "pin").xCache()).as("a pair without a value is no pin").isEqualTo("BYPASS");
    for (String hidden : List.of(cookie + " session=alice", cookie + ", session=alice", cookie + "\tsession=alice",
        "pin=\"x session=alice\"")) {
      assertThat(get("/page", "Cookie", hidden).xCache()).as("a session hidden in a pin's value: " + hidden)
          .isEqualTo("BYPASS");
    }
  }

  @Test
  void theCacheStaysWithinItsByteBoundByEvictingEntries() throws Exception {
    byte[] body = new byte[60 * 1024];
    java.util.Arrays.fill(body, (byte) 'x');
    TestBackend origin = origin(r -> TestBackend.Reply.ok("").body(body));
    start(origin.port(), "ttl = 60s");
    for (int i = 0; i < 200; i++) {
      Answer a = get("/e/" + i);
      assertThat(a.body().length()).isEqualTo(body.length);
    }
    EdgeCache cache = proxy.proxy().cache();
    cache.cleanUp();
    assertThat(cache.bytes()).as("max-size = 4MiB").isLessThanOrEqualTo(4L * 1024 * 1024);
    assertThat(cache.evictions()).isGreaterThan(100);
    assertThat(cache.entryCount()).isBetween(10L, 70L);
    // Caffeine tells its removal listener (which counts evictions) on its own executor: the count may
    // still move just after cleanUp, so the admin API's figure is compared once the two agree.
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(adminGet("/admin/api/cache").path("evictions").longValue()).isEqualTo(cache.evictions()));
  }

  @Test
  void aBodyLargerThanTheLargestObjectStreamsThroughUncached() throws Exception {
    byte[] big = new byte[20 * 1024 * 1024];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) ('a' + i % 26);
    }
    TestBackend origin = origin(r -> TestBackend.Reply.ok("").body(big));
    start(origin.port(), "ttl = 60s");
    for (int i = 0; i < 2; i++) {
      Answer a = get("/big");
      assertThat(a.body().length()).isEqualTo(big.length);
      assertThat(a.body()).isEqualTo(new String(big, StandardCharsets.ISO_8859_1));
    }
    assertThat(count("/big")).isEqualTo(2);
    assertThat(counter("meridian.cache.not.stored", "reason", "too-large")).isEqualTo(2);
  }

  @Test
  void purgesRemoveByUrlPrefixAndTag() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("x").header("Cache-Tag", "product-1, list")
        .header("Surrogate-Key", r.uri().startsWith("/p/2") ? "product-2 list" : "other"));
    start(origin.port(), "ttl = 60s");
    for (String path : List.of("/p/1", "/p/2", "/q/3")) {
      Answer a = get(path);
      assertThat(a.header("cache-tag")).as("tags stay with the cache").isNull();
      assertThat(a.header("surrogate-key")).isNull();
    }
    String base = "http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort();
    assertThat(purge("url=" + base + "/p/1").path("purged").intValue()).isEqualTo(1);
    assertThat(get("/p/1").xCache()).isEqualTo("MISS");
    assertThat(purge("tag=product-2").path("purged").intValue()).isEqualTo(1);
    assertThat(get("/p/2").xCache()).isEqualTo("MISS");
    assertThat(purge("prefix=" + base + "/p/").path("purged").intValue()).isEqualTo(2);
    assertThat(purge("tag=list").path("purged").intValue()).isEqualTo(1);
    assertThat(get("/q/3").xCache()).isEqualTo("MISS");
    JsonNode status = adminGet("/admin/api/cache");
    assertThat(status.path("entries").longValue()).as("%s", status).isEqualTo(1);
    assertThat(status.has("hit-ratio")).as("%s", status).isTrue();

    // A URL with a query, not percent-encoded: refused, not a quiet purge of the cut URL.
    HttpResponse<String> cut = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + proxy.adminAddress().getPort() + "/admin/api/cache/purge?url=" + base + "/q/3?a=1&b=2"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(cut.statusCode()).isEqualTo(400);
    assertThat(cut.body()).contains("not b").contains("percent-encoded");

    // A bare path: entries are keyed by absolute URL, so it is refused with the form that works.
    HttpResponse<String> bare = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + proxy.adminAddress().getPort() + "/admin/api/cache/purge?url=/q/3"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(bare.statusCode()).isEqualTo(400);
    assertThat(bare.body()).contains("absolute URL").contains("url=https://shop.example/static/app.css");

    // An empty tag names no entry: refused, not a quiet purge of nothing.
    HttpResponse<String> emptyTag = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + proxy.adminAddress().getPort() + "/admin/api/cache/purge?tag="))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(emptyTag.statusCode()).isEqualTo(400);
    assertThat(emptyTag.body()).contains("not an empty one");

    // Any spelling of the URL's scheme and host purges what the canonical one holds.
    get("/q/4");
    assertThat(purge("url=" + base.replace("http://127.0.0.1", "HTTP://127.0.0.1.") + "/q/4").path("purged").intValue())
        .isEqualTo(1);
    assertThat(get("/q/4").xCache()).isEqualTo("MISS");
  }

  /** Purges through the admin API and returns its JSON answer ({@code purged}: how many entries went). */
  private JsonNode purge(String query) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + proxy.adminAddress().getPort() + "/admin/api/cache/purge?" + query.replace("&", "%26")))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** GETs an admin JSON document, parsed. */
  private JsonNode adminGet(String path) throws Exception {
    return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + proxy.adminAddress().getPort() + path)).build(), HttpResponse.BodyHandlers.ofString()).body());
  }

  @Test
  void aStaleEntryAnswersWhenTheOriginProcessIsKilledWithinStaleIfError() throws Exception {
    BackendProcess origin = BackendProcess.start("origin-1");
    processes.add(origin);
    start(origin.port(), "ttl = 10s, stale-if-error = 1m");
    Answer first = get("/s");
    assertThat(first.body()).isEqualTo("origin-1");
    origin.kill();
    clock.advance(Duration.ofSeconds(30));
    Answer stale = get("/s");
    assertThat(stale.status()).isEqualTo(200);
    assertThat(stale.body()).isEqualTo("origin-1");
    assertThat(stale.xCache()).isEqualTo("STALE");
    assertThat(stale.age()).isEqualTo("30");
    clock.advance(Duration.ofSeconds(41));
    assertThat(get("/s").status()).as("past stale-if-error: the failure shows").isIn(502, 503);
  }

  @Test
  void aStaleEntryAnswersAnOrigin5xxWithinStaleIfError() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    TestBackend origin = origin(r -> calls.incrementAndGet() == 1 ? TestBackend.Reply.ok("good")
        : TestBackend.Reply.status(503).body("down"));
    start(origin.port(), "ttl = 10s, stale-if-error = 1m");
    get("/e");
    clock.advance(Duration.ofSeconds(11));
    Answer stale = get("/e");
    assertThat(stale.body()).isEqualTo("good");
    assertThat(stale.xCache()).isEqualTo("STALE");
    assertThat(counter("meridian.cache.requests", "result", "stale")).isEqualTo(1);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"no-cache", "max-age=10, must-revalidate", "max-age=10, proxy-revalidate", "s-maxage=10"})
  void anAnswerThatForbidsStaleUseIsNeverServedStale(String cacheControl) throws Exception {
    AtomicInteger calls = new AtomicInteger();
    TestBackend origin = origin(r -> calls.incrementAndGet() == 1
        ? TestBackend.Reply.ok("v1").header("Cache-Control", cacheControl).header("ETag", "\"e1\"")
        : TestBackend.Reply.status(503).body("down"));
    start(origin.port(), "ttl = 10s, stale-if-error = 1h, stale-while-revalidate = 1h");
    assertThat(get("/r").body()).isEqualTo("v1");
    clock.advance(Duration.ofSeconds(11));
    Answer failed = get("/r");
    assertThat(failed.status()).as("RFC 9111 section 4.2.4: no stale answer for " + cacheControl).isEqualTo(503);
    assertThat(failed.xCache()).isNotEqualTo("STALE");
    assertThat(count("/r")).as("asked the origin, not answered from the stale entry").isEqualTo(2);
  }

  @Test
  void theOriginsStaleWhileRevalidateServesAStaleOnArrivalAnswerWhileARefreshRuns() throws Exception {
    AtomicInteger version = new AtomicInteger(1);
    TestBackend origin = origin(r -> TestBackend.Reply.ok("version " + version.get())
        .header("Cache-Control", version.get() == 1 ? "max-age=0, stale-while-revalidate=60" : "max-age=3600")
        .header("ETag", "\"v" + version.get() + "\""));
    start(origin.port(), "ttl = 0");
    assertThat(get("/o").body()).isEqualTo("version 1");
    version.set(2);
    Answer stale = get("/o");
    assertThat(stale.xCache()).as("stored for its window though stale on arrival").isEqualTo("STALE");
    assertThat(stale.body()).isEqualTo("version 1");
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> proxy.proxy().cache().misses().inFlight() == 0 && count("/o") == 2);
    Answer refreshed = get("/o");
    assertThat(refreshed.body()).isEqualTo("version 2");
    assertThat(refreshed.xCache()).isEqualTo("HIT");
  }

  @Test
  void theOriginsStaleWhileRevalidateEndsWithItsWindow() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("v").header("Cache-Control", "max-age=10, stale-while-revalidate=20"));
    start(origin.port(), "ttl = 0");
    get("/w");
    clock.advance(Duration.ofSeconds(31));
    assertThat(get("/w").xCache()).as("10 s fresh + 20 s of grace are over").isEqualTo("EXPIRED");
    assertThat(count("/w")).isEqualTo(2);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"max-age=0, stale-if-error=60", "s-maxage=10, stale-if-error=60"})
  void theOriginsStaleIfErrorAnswersAFailureWithinItsWindow(String cacheControl) throws Exception {
    AtomicInteger calls = new AtomicInteger();
    TestBackend origin = origin(r -> calls.incrementAndGet() == 1
        ? TestBackend.Reply.ok("good").header("Cache-Control", cacheControl)
        : TestBackend.Reply.status(500).body("down"));
    start(origin.port(), "ttl = 0");
    get("/sie");
    clock.advance(Duration.ofSeconds(30));
    Answer stale = get("/sie");
    assertThat(stale.status()).isEqualTo(200);
    assertThat(stale.body()).isEqualTo("good");
    assertThat(stale.xCache()).isEqualTo("STALE");
    clock.advance(Duration.ofSeconds(45));
    assertThat(get("/sie").status()).as("past the origin's stale-if-error").isEqualTo(500);
  }

  @Test
  void theOriginsStaleWindowsAreIgnoredWithoutHonorOriginAndWhenItMustRevalidate() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    TestBackend origin = origin(r -> calls.incrementAndGet() <= 2
        ? TestBackend.Reply.ok("good").header("Cache-Control",
            r.uri().equals("/mr") ? "max-age=10, must-revalidate, stale-if-error=600" : "max-age=10, stale-if-error=600")
        : TestBackend.Reply.status(500).body("down"));
    start("{ address = \"127.0.0.1:" + origin.port() + "\" }",
        "{ name = \"honoring\", path-prefix = \"/mr\", backend-group = \"app\", cache { ttl = 10s } },"
            + " { name = \"deaf\", path-prefix = \"/deaf\", backend-group = \"app\", cache { ttl = 10s, honor-origin = false } }");
    get("/mr");
    get("/deaf");
    clock.advance(Duration.ofSeconds(30));
    assertThat(get("/mr").status()).as("must-revalidate outweighs its own stale-if-error").isEqualTo(500);
    assertThat(get("/deaf").status()).as("honor-origin = false: the origin's window is not read").isEqualTo(500);
  }

  @Test
  void aReloadThatWidensStaleIfErrorCoversEntriesAlreadyStored() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    TestBackend origin = origin(r -> calls.incrementAndGet() == 1 ? TestBackend.Reply.ok("good")
        : TestBackend.Reply.status(503).body("down"));
    start(origin.port(), "ttl = 10s");
    get("/wide");
    clock.advance(Duration.ofSeconds(60));
    assertThat(get("/wide").status()).as("no stale-if-error yet").isEqualTo(503);
    proxy.proxy().reload(SettingsLoader.parse("meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  timeouts { connect = 1s, response-headers = 2s }\n"
        + "  cache { max-size = 4MiB, max-object-size = 64KiB }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + origin.port() + "\" } ] } }\n"
        + "  routes = [ { name = \"static\", path-prefix = \"/\", backend-group = \"app\", cache { ttl = 10s, stale-if-error = 1h } } ]\n"
        + "}\n", "cache-test-2"));
    Answer stale = get("/wide");
    assertThat(stale.status()).as("the operator's wider window covers the entry stored before it").isEqualTo(200);
    assertThat(stale.body()).isEqualTo("good");
    assertThat(stale.xCache()).isEqualTo("STALE");
  }

  @Test
  void cdnCacheControlReplacesCacheControlForTheEdgeAndReachesTheClient() throws Exception {
    TestBackend origin = origin(r -> switch (r.uri()) {
      case "/longer" -> TestBackend.Reply.ok("a").header("Cache-Control", "max-age=1").header("CDN-Cache-Control", "max-age=3600");
      case "/shorter" -> TestBackend.Reply.ok("b").header("Cache-Control", "max-age=3600").header("CDN-Cache-Control", "max-age=1");
      case "/nostore" -> TestBackend.Reply.ok("c").header("Cache-Control", "no-store").header("CDN-Cache-Control", "max-age=600");
      case "/private" -> TestBackend.Reply.ok("d").header("Cache-Control", "max-age=600").header("CDN-Cache-Control", "private");
      default -> TestBackend.Reply.ok("e").header("Cache-Control", "max-age=1").header("CDN-Cache-Control", "max-age =600");
    });
    start(origin.port(), "ttl = 0");
    for (String path : List.of("/longer", "/shorter", "/nostore", "/private", "/invalid")) {
      Answer first = get(path);
      assertThat(first.header("cdn-cache-control")).as("forwarded to the client").isNotNull();
      assertThat(first.header("cache-control")).as("the browser's own directive is untouched").isNotNull();
    }
    clock.advance(Duration.ofSeconds(5));
    assertThat(get("/longer").xCache()).as("CDN-Cache-Control's hour, not Cache-Control's second").isEqualTo("HIT");
    assertThat(get("/shorter").xCache()).isEqualTo("EXPIRED");
    assertThat(get("/nostore").xCache()).as("stored by CDN-Cache-Control despite no-store").isEqualTo("HIT");
    assertThat(get("/private").xCache()).isNotEqualTo("HIT");
    assertThat(count("/private")).isEqualTo(2);
    assertThat(get("/invalid").xCache()).as("an invalid CDN-Cache-Control is ignored whole").isEqualTo("EXPIRED");
  }

  @Test
  void aTargetedFieldOfTheOperatorsOwnWinsOverCdnCacheControl() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("x").header("CDN-Cache-Control", "no-store")
        .header("Meridian-Cache-Control", "max-age=600"));
    start(origin.port(), "ttl = 0, targeted-fields = [Meridian-Cache-Control, CDN-Cache-Control]");
    get("/mine");
    clock.advance(Duration.ofSeconds(300));
    assertThat(get("/mine").xCache()).isEqualTo("HIT");
    assertThat(count("/mine")).isEqualTo(1);
  }

  @Test
  void behindATrustedTlsTerminatingProxyHttpAndHttpsClientsGetEntriesOfTheirOwn() throws Exception {
    TestBackend origin = origin(r -> "http".equals(r.header("x-forwarded-proto"))
        ? TestBackend.Reply.status(301).header("Location", "https://shop.test/").header("Cache-Control", "max-age=600")
        : TestBackend.Reply.ok("page for " + r.header("x-forwarded-host")).header("Cache-Control", "max-age=600"));
    start("{ address = \"127.0.0.1:" + origin.port() + "\" }",
        "{ name = \"static\", path-prefix = \"/\", backend-group = \"app\", cache { ttl = 60s } }",
        "  geo { trusted-proxies = [\"127.0.0.1/32\"] }");
    assertThat(get("/", "X-Forwarded-Proto", "http").status()).isEqualTo(301);
    Answer secure = get("/", "X-Forwarded-Proto", "HTTPS");
    assertThat(secure.status()).as("not the redirect stored for http, which would loop").isEqualTo(200);
    assertThat(get("/", "X-Forwarded-Proto", "https").xCache()).isEqualTo("HIT");
    assertThat(get("/", "X-Forwarded-Proto", "http").status()).isEqualTo(301);

    assertThat(get("/p", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "shop.test").body()).isEqualTo("page for shop.test");
    assertThat(get("/p", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.test").body()).as("a forwarded host is keyed")
        .isEqualTo("page for evil.test");
    assertThat(get("/p", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "SHOP.test").xCache()).isEqualTo("HIT");
    assertThat(count("/p")).isEqualTo(2);

    assertThat(purge("url=https://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/").path("purged").intValue()).isEqualTo(1);
    assertThat(get("/", "X-Forwarded-Proto", "https").xCache()).as("purged by its https URL").isEqualTo("MISS");
    assertThat(get("/", "X-Forwarded-Proto", "http").xCache()).as("the http entry stays").isEqualTo("HIT");
  }

  @Test
  void aNoCacheAnswerIsRevalidatedOnEveryUseEvenWithStaleWhileRevalidate() throws Exception {
    AtomicInteger version = new AtomicInteger();
    TestBackend origin = origin(r -> TestBackend.Reply.ok("v" + version.incrementAndGet())
        .header("Cache-Control", "no-cache").header("ETag", "\"e" + version.get() + "\""));
    start(origin.port(), "ttl = 10s, stale-while-revalidate = 1h");
    assertThat(get("/nc").body()).isEqualTo("v1");
    Answer second = get("/nc");
    assertThat(second.xCache()).isNotEqualTo("STALE");
    assertThat(second.body()).as("the origin's current answer, not the one stored before").isEqualTo("v2");
  }

  @ParameterizedTest
  @ValueSource(strings = {"s-maxage", "s-maxage=-1", "s-maxage=\"\""})
  void aMalformedSMaxAgeDoesNotLetAnAuthenticatedAnswerBeShared(String cacheControl) throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("for " + r.header("cookie")).header("Cache-Control", cacheControl));
    start(origin.port(), "ttl = 60s, honor-origin = false, authenticated = cache-public-only");
    assertThat(get("/me", "Cookie", "session=alice").body()).isEqualTo("for session=alice");
    assertThat(get("/me", "Cookie", "session=bob").body()).as("never alice's answer").isEqualTo("for session=bob");
  }

  @Test
  void aStoredErrorOrRedirectIsNotTurnedInto304() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.status(404).body("gone")
        .header("Cache-Control", "max-age=600").header("ETag", "\"n\""));
    start(origin.port(), "ttl = 10s, cacheable-status = [200, 404]");
    assertThat(get("/missing").status()).isEqualTo(404);
    Answer again = get("/missing", "If-None-Match", "\"n\"");
    assertThat(again.xCache()).isEqualTo("HIT");
    assertThat(again.status()).as("RFC 9110 section 13.2.1: preconditions only for a 2xx").isEqualTo(404);
  }

  @Test
  void aRequestThatSaysNoStoreIsAnsweredButItsAnswerIsNotStored() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("x").header("Cache-Control", "max-age=600"));
    start(origin.port(), "ttl = 10s");
    assertThat(get("/ns", "Cache-Control", "no-store").status()).isEqualTo(200);
    assertThat(get("/ns").xCache()).as("nothing was stored for the first request").isEqualTo("MISS");
    assertThat(get("/ns", "Cache-Control", "no-store").xCache()).as("a stored answer may still answer it").isEqualTo("HIT");
    assertThat(counter("meridian.cache.not.stored", "reason", "request-no-store")).isEqualTo(1);
  }

  @Test
  void noStoreRequestsWaitForAFillInFlightRatherThanEachAskingTheOrigin() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("shared").header("Cache-Control", "max-age=600")
        .delay(Duration.ofMillis(500)));
    start(origin.port(), "ttl = 10s");
    URI uri = URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/burst");
    var lead = http.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(5)).until(() -> count("/burst") == 1);
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      burst.add(http.sendAsync(HttpRequest.newBuilder(uri).header("Cache-Control", "no-store")
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (var answer : burst) {
      assertThat(answer.get(15, TimeUnit.SECONDS).body()).isEqualTo("shared");
    }
    assertThat(lead.get(15, TimeUnit.SECONDS).body()).isEqualTo("shared");
    assertThat(count("/burst")).as("one origin request for all six").isEqualTo(1);
  }

  @Test
  void aRequestThatSaysNoStoreDoesNotRefreshAStaleEntry() throws Exception {
    List<String> validators = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger version = new AtomicInteger();
    TestBackend origin = origin(r -> {
      validators.add(String.valueOf(r.header("if-none-match")));
      return r.header("if-none-match") != null ? TestBackend.Reply.status(304).header("ETag", "\"e\"")
          : TestBackend.Reply.ok("v" + version.incrementAndGet()).header("Cache-Control", "max-age=10")
              .header("ETag", "\"e\"");
    });
    start(origin.port(), "ttl = 10s");
    get("/nsr");
    clock.advance(Duration.ofSeconds(11));
    Answer noStore = get("/nsr", "Cache-Control", "no-store");
    assertThat(noStore.body()).isEqualTo("v2");
    assertThat(validators).as("asked plainly, not to confirm the entry it may not refresh").containsExactly("null", "null");
  }

  @Test
  void onlyIfCachedGetsTheEntryOr504() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("x").header("Cache-Control", "max-age=600"));
    start(origin.port(), "ttl = 10s");
    Answer none = get("/oic", "Cache-Control", "only-if-cached");
    assertThat(none.status()).isEqualTo(504);
    assertThat(none.xCache()).isEqualTo("MISS");
    assertThat(count("/oic")).as("the origin is not asked").isZero();
    get("/oic");
    Answer hit = get("/oic", "Cache-Control", "only-if-cached");
    assertThat(hit.status()).isEqualTo(200);
    assertThat(hit.xCache()).isEqualTo("HIT");
  }

  @ParameterizedTest
  @ValueSource(strings = {"If-Match", "If-Unmodified-Since"})
  void aRequestWithAPreconditionTheCacheCannotJudgeGoesToTheOrigin(String field) throws Exception {
    TestBackend origin = origin(r -> r.header("if-match") != null || r.header("if-unmodified-since") != null
        ? TestBackend.Reply.status(412).body("changed")
        : TestBackend.Reply.ok("x").header("Cache-Control", "max-age=600").header("ETag", "\"a\""));
    start(origin.port(), "ttl = 10s");
    get("/p");
    Answer judged = get("/p", field, field.equals("If-Match") ? "\"b\"" : "Thu, 01 Jan 2015 00:00:00 GMT");
    assertThat(judged.status()).isEqualTo(412);
    assertThat(judged.xCache()).isEqualTo("BYPASS");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "two-digit year | Thu, 18 Aug 50 02:01:18 GMT",
      "a zone other than GMT | Thu, 18 Aug 2050 02:01:18 UTC",
      "no comma | Thu 18 Aug 2050 02:01:18 GMT",
      "dashes | Thu, 18-Aug-2050 02:01:18 GMT",
      "one-digit hour | Thu, 18 Aug 2050 2:01:18 GMT"})
  void anExpiresThatIsNoHttpDateMeansThePast(String name, String expires) throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("x").header("Expires", expires));
    start(origin.port(), "ttl = 1h");
    get("/x");
    assertThat(get("/x").xCache()).as("RFC 9111 section 5.3: an invalid Expires is stale").isEqualTo("MISS");
  }

  @Test
  void aHundredConcurrentMissesMakeOneOriginRequestAndAllGetTheBodyIntact() throws Exception {
    byte[] body = new byte[40 * 1024];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) ('A' + i % 23);
    }
    TestBackend origin = origin(r -> TestBackend.Reply.ok("").body(body).delay(Duration.ofMillis(500)));
    start(origin.port(), "ttl = 60s");
    List<java.util.concurrent.CompletableFuture<HttpResponse<byte[]>>> answers = new ArrayList<>();
    URI uri = URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/popular");
    for (int i = 0; i < 100; i++) {
      answers.add(http.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofByteArray()));
    }
    Map<String, Integer> results = new java.util.TreeMap<>();
    for (var a : answers) {
      HttpResponse<byte[]> r = a.get(15, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(body);
      results.merge(r.headers().firstValue("x-cache").orElse("none"), 1, Integer::sum);
    }
    assertThat(count("/popular")).isEqualTo(1);
    assertThat(results).containsEntry("MISS", 1).containsEntry("HIT", 99);
    assertThat(counter("meridian.cache.coalesced", "route", "static")).isEqualTo(99);
    assertThat(proxy.proxy().cache().misses().inFlight()).isZero();
  }

  @Test
  void whenTheLeadersAnswerIsNotStoredTheWaitersEachAskTheOrigin() throws Exception {
    TestBackend origin = origin(r -> TestBackend.Reply.ok("private " + r.uri()).header("Cache-Control", "no-store")
        .delay(Duration.ofMillis(300)));
    start(origin.port(), "ttl = 60s");
    for (HttpResponse<String> r : concurrently("/p", 10)) {
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("private /p");
      assertThat(r.headers().firstValue("x-cache")).contains("MISS");
    }
    assertThat(count("/p")).isEqualTo(10);
    assertThat(proxy.proxy().cache().misses().inFlight()).isZero();
  }

  /**
   * Once a URL's answer was not stored, its next misses go to the origin side by side for two minutes
   * (hit-for-miss) rather than each burst waiting behind one request; an answer that may be stored
   * is, and ends that.
   */
  @Test
  void aKeyWhoseAnswerWasNotStoredStopsCollapsingMissesForTwoMinutes() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean storable = new java.util.concurrent.atomic.AtomicBoolean();
    TestBackend origin = origin(r -> TestBackend.Reply.ok("answer")
        .header("Cache-Control", storable.get() ? "max-age=60" : "no-store").delay(Duration.ofMillis(300)));
    start(origin.port(), "ttl = 60s");
    assertThat(concurrently("/u", 10)).allMatch(r -> r.statusCode() == 200);
    double collapsed = counter("meridian.cache.coalesced", "route", "static");
    assertThat(collapsed).as("the first burst waited for its leader").isPositive();

    assertThat(concurrently("/u", 10)).allMatch(r -> r.statusCode() == 200);
    assertThat(counter("meridian.cache.coalesced", "route", "static")).as("no request waited").isEqualTo(collapsed);
    assertThat(count("/u")).isEqualTo(20);

    clock.advance(Duration.ofSeconds(121));
    assertThat(concurrently("/u", 10)).allMatch(r -> r.statusCode() == 200);
    assertThat(counter("meridian.cache.coalesced", "route", "static")).as("collapsing again after two minutes")
        .isGreaterThan(collapsed);

    storable.set(true);
    assertThat(get("/u").xCache()).as("a storable answer is stored though the key was remembered").isEqualTo("MISS");
    assertThat(get("/u").xCache()).isEqualTo("HIT");
  }

  @Test
  void anHttp2ClientIsAnsweredFromTheSameEntries() throws Exception {
    assumeTrue(installed("curl"), "curl is installed by .ci/run");
    TestBackend origin = origin(r -> TestBackend.Reply.ok("shared body"));
    start(origin.port(), "ttl = 60s");
    get("/h2");
    String url = "http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/h2";
    Process p = new ProcessBuilder("curl", "-s", "-i", "--max-time", "10", "--http2-prior-knowledge", url)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    assertThat(out).startsWith("HTTP/2 200").contains("x-cache: HIT").endsWith("shared body");
    assertThat(count("/h2")).isEqualTo(1);
  }

  private static boolean installed(String tool) {
    try {
      return new ProcessBuilder(tool, "--version").redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
