package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawHttpClient.RawResponse;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.proxy.testing.TestBackend.Reply;
import dev.meridian.proxy.testing.TestBackend.Request;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the proxy removes from and adds to request and response heads. */
class HeadersTest {
  private static final String HEX_ID = "[0-9a-f]{32}";

  /** Sends {@code raw} through a fresh proxy to an echoHeaders backend; returns what the backend saw. */
  private static Exchange roundTrip(String raw, String... routeOptions) throws Exception {
    return roundTripWith(null, raw, routeOptions);
  }

  /** As {@link #roundTrip}, with {@code meridianSetting} (when not null) added to the configuration. */
  private static Exchange roundTripWith(String meridianSetting, String raw, String... routeOptions) throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders())) {
      ForwardingProxy config = ForwardingProxy.to(backend.address());
      if (meridianSetting != null) {
        config.set(meridianSetting);
      }
      for (String option : routeOptions) {
        config.routeOption(option);
      }
      try (ForwardingProxy proxy = config.start(); RawHttpClient client = proxy.connect()) {
        client.send(raw);
        RawResponse response = client.readResponse();
        assertThat(response.status()).as(response.bodyText()).isEqualTo(200);
        assertThat(backend.requests()).hasSize(1);
        return new Exchange(backend.requests().get(0), response, backend.port());
      }
    }
  }

  private record Exchange(Request seen, RawResponse response, int backendPort) {}

  /**
   * A connection's requests reuse its last checked Host when the bytes are the same: each request
   * still goes out with its own Host, and a malformed one is refused after good ones.
   */
  @Test
  void eachRequestOnAConnectionKeepsItsOwnHostAndAMalformedOneIsRefused() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      for (String host : new String[] {"a.test", "a.test", "b.test", "a.test", "a.tesT", "a.test:80"}) {
        client.send("GET /h HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
      }
      client.send("GET /h HTTP/1.1\r\nHost: a.test/x\r\n\r\n");
      RawResponse refused = client.readResponse();

      assertThat(refused.status()).isEqualTo(400);
      assertThat(refused.bodyText()).contains("malformed Host");
      assertThat(backend.requests()).extracting(request -> request.header("host"))
          .containsExactly("a.test", "a.test", "b.test", "a.test", "a.tesT", "a.test:80");
      // The Host string the proxy kept, not only the field's bytes passed on, is each request's own.
      assertThat(backend.requests()).extracting(request -> request.header("x-forwarded-host"))
          .containsExactly("a.test", "a.test", "b.test", "a.test", "a.tesT", "a.test:80");
    }
  }

  @Test
  void hopByHopHeadersAndThoseNamedInConnectionAreStripped() throws Exception {
    Exchange ex = roundTrip("GET /h HTTP/1.1\r\nHost: app.test\r\n"
        + "Connection: keep-alive, X-Secret, x-other-secret\r\n"
        + "Keep-Alive: timeout=5\r\n"
        + "Proxy-Connection: keep-alive\r\n"
        + "TE: deflate\r\n"
        + "Trailer: X-Checksum\r\n"
        + "Upgrade: h2c\r\n"
        + "X-Secret: s1\r\n"
        + "X-Other-Secret: s2\r\n"
        + "X-Kept: yes\r\n\r\n");

    for (String name : new String[] {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
        "x-secret", "x-other-secret"}) {
      assertThat(ex.seen().headers().contains(name)).as("backend saw %s", name).isFalse();
    }
    assertThat(ex.seen().header("x-kept")).isEqualTo("yes");
    assertThat(ex.response().bodyText())
        .contains("x-kept: yes\n")
        .doesNotContain("x-secret").doesNotContain("keep-alive:").doesNotContain("te:");
  }

  /** What Meridian sets before the rewrite (trace context, request id) stays whatever Connection names. */
  @Test
  void connectionCannotStripTheTraceContextOrTheRequestIdMeridianSets() throws Exception {
    Exchange ex = roundTrip("GET /h HTTP/1.1\r\nHost: app.test\r\nConnection: traceparent, X-Request-Id\r\n\r\n");
    assertThat(ex.seen().header("traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]");
    assertThat(ex.seen().header("x-request-id")).isNotBlank();
  }

  @Test
  void teTrailersIsForwardedBecauseMeridianRelaysTrailers() throws Exception {
    Exchange ex = roundTrip("GET /h HTTP/1.1\r\nHost: app.test\r\nTE: deflate, trailers;q=1\r\n\r\n");
    assertThat(ex.seen().header("te")).isEqualTo("trailers");
    assertThat(ex.seen().header("connection")).isEqualToIgnoringCase("te");
  }

  @Test
  void hopByHopResponseHeadersAreStripped() throws Exception {
    try (TestBackend backend = TestBackend.start(request -> Reply.ok("r")
        .header("Connection", "X-Backend-Secret")
        .header("X-Backend-Secret", "s")
        .header("Keep-Alive", "timeout=5")
        .header("Proxy-Connection", "keep-alive")
        .header("X-Kept", "yes"));
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      RawResponse response = client.readResponse();

      assertThat(response.headers()).doesNotContainKeys("X-Backend-Secret", "Keep-Alive", "Proxy-Connection");
      assertThat(response.header("connection")).isNull();
      assertThat(response.header("x-kept")).isEqualTo("yes");
      assertThat(response.bodyText()).isEqualTo("r");
    }
  }

  @Test
  void connectionCannotRemoveTheProxysOwnForwardingHeaders() throws Exception {
    Exchange ex = roundTrip("GET / HTTP/1.1\r\nHost: app.test\r\n"
        + "Connection: X-Forwarded-For, Forwarded, Via, X-Forwarded-Proto, X-Forwarded-Host\r\n"
        + "X-Forwarded-For: 10.9.9.9\r\n\r\n");

    // The client's own X-Forwarded-For was declared hop-by-hop, so only the proxy's hop remains.
    assertThat(ex.seen().header("x-forwarded-for")).isEqualTo("127.0.0.1");
    assertThat(ex.seen().header("x-forwarded-proto")).isEqualTo("http");
    assertThat(ex.seen().header("x-forwarded-host")).isEqualTo("app.test");
    assertThat(ex.seen().header("forwarded")).isEqualTo("for=127.0.0.1;host=\"app.test\";proto=http");
    assertThat(ex.seen().header("via")).isEqualTo("1.1 meridian");
  }

  private static final String SPOOFED = "GET / HTTP/1.1\r\nHost: app.test\r\n"
      + "X-Forwarded-For: 10.9.9.9\r\nX-Forwarded-Host: evil.test\r\nX-Forwarded-Proto: https\r\n"
      + "X-Forwarded-Port: 443\r\nX-Forwarded-Prefix: /admin\r\nX-Real-IP: 10.9.9.9\r\n"
      + "Forwarded: for=10.9.9.9;proto=https\r\nClient-IP: 10.9.9.9\r\nX-Client-IP: 10.9.9.9\r\n"
      + "True-Client-IP: 10.9.9.9\r\nX-Cluster-Client-IP: 10.9.9.9\r\nX-Forwarded-Server: evil.test\r\n\r\n";

  @Test
  void aClientThatIsNoTrustedProxyCannotSayWhoTheClientIs() throws Exception {
    Exchange ex = roundTrip(SPOOFED);
    assertThat(ex.seen().header("x-forwarded-for")).isEqualTo("127.0.0.1");
    assertThat(ex.seen().header("x-forwarded-host")).isEqualTo("app.test");
    assertThat(ex.seen().header("x-forwarded-proto")).isEqualTo("http");
    assertThat(ex.seen().headers().getAll("forwarded")).containsExactly("for=127.0.0.1;host=\"app.test\";proto=http");
    for (String name : new String[] {"x-forwarded-port", "x-forwarded-prefix", "x-real-ip", "client-ip",
        "x-client-ip", "true-client-ip", "x-cluster-client-ip", "x-forwarded-server"}) {
      assertThat(ex.seen().headers().contains(name)).as("backend saw %s", name).isFalse();
    }
  }

  /**
   * CGI, WSGI and Rack backends give X_Forwarded_For and X-Forwarded-For the same variable
   * (HTTP_X_FORWARDED_FOR): a client's underscore spelling must not stand in for the proxy's.
   */
  @Test
  void forwardingHeadersSpelledWithUnderscoresAreDroppedToo() throws Exception {
    Exchange ex = roundTrip("GET / HTTP/1.1\r\nHost: app.test\r\nX_Forwarded_For: 10.9.9.9\r\n"
        + "x_real_ip: 10.9.9.9\r\nX-Forwarded_Proto: https\r\nX_Request_Kind: kept\r\n\r\n");
    assertThat(ex.seen().header("x-forwarded-for")).isEqualTo("127.0.0.1");
    for (String name : new String[] {"X_Forwarded_For", "x_real_ip", "X-Forwarded_Proto"}) {
      assertThat(ex.seen().headers().contains(name)).as("backend saw %s", name).isFalse();
    }
    assertThat(ex.seen().header("X_Request_Kind")).as("other names with underscores pass").isEqualTo("kept");
  }

  /**
   * Content_Length and Transfer_Encoding would frame the request differently for a backend that reads
   * "_" as "-" (the body Meridian forwards as a next request would be this one's): dropped, from any
   * client, a trusted proxy too.
   */
  @Test
  void underscoreSpellingsOfTheFramingFieldsAreDroppedFromEveryClient() throws Exception {
    String head = "GET / HTTP/1.1\r\nHost: app.test\r\nContent_Length: 37\r\ntransfer_Encoding: chunked\r\n"
        + "X_Other: kept\r\n\r\n";
    for (Exchange ex : new Exchange[] {roundTrip(head), roundTripWith("geo.trusted-proxies = [\"127.0.0.0/8\"]", head)}) {
      for (String name : new String[] {"Content_Length", "transfer_Encoding"}) {
        assertThat(ex.seen().headers().contains(name)).as("backend saw %s", name).isFalse();
      }
      assertThat(ex.seen().header("X_Other")).isEqualTo("kept");
    }
  }

  /** On a route that allows only some methods, a method override cannot turn a POST into a DELETE. */
  @Test
  void methodOverridesAreDroppedOnARouteWithAMethodList() throws Exception {
    String post = "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 0\r\nX-HTTP-Method-Override: DELETE\r\n"
        + "X-HTTP-Method: DELETE\r\nx_method_override: DELETE\r\n\r\n";
    Exchange restricted = roundTrip(post, "methods = [GET, POST]");
    for (String name : new String[] {"X-HTTP-Method-Override", "X-HTTP-Method", "x_method_override"}) {
      assertThat(restricted.seen().headers().contains(name)).as("backend saw %s", name).isFalse();
    }
    assertThat(roundTrip(post).seen().header("X-HTTP-Method-Override")).as("a route open to any method")
        .isEqualTo("DELETE");
  }

  @Test
  void aTrustedProxysForwardingHeadersAreKeptAndItsHopAdded() throws Exception {
    Exchange ex = roundTripWith("geo.trusted-proxies = [\"127.0.0.0/8\"]", SPOOFED);
    assertThat(ex.seen().header("x-forwarded-for")).isEqualTo("10.9.9.9, 127.0.0.1");
    assertThat(ex.seen().header("x-real-ip")).isEqualTo("10.9.9.9");
    assertThat(ex.seen().header("x-forwarded-prefix")).isEqualTo("/admin");
    assertThat(ex.seen().header("x-forwarded-proto")).as("the scheme the proxy's client used").isEqualTo("https");
    assertThat(ex.seen().header("x-forwarded-host")).as("the host the proxy's client asked for").isEqualTo("evil.test");
    assertThat(ex.seen().header("true-client-ip")).isEqualTo("10.9.9.9");
    assertThat(ex.seen().headers().getAll("forwarded"))
        .containsExactly("for=10.9.9.9;proto=https", "for=127.0.0.1;host=\"app.test\";proto=http");
  }

  /**
   * HAProxy's forwardfor adds its own X-Forwarded-For line beside its client's: every line reaches the
   * backend, in order (only the first did, so a client's claim stood for the address HAProxy saw).
   */
  @Test
  void aTrustedProxysForwardedForLinesAllGoOnAsOneList() throws Exception {
    Exchange ex = roundTripWith("geo.trusted-proxies = [\"127.0.0.0/8\"]", "GET / HTTP/1.1\r\nHost: app.test\r\n"
        + "X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-For: 127.0.0.2\r\nX-Forwarded-For: \r\n\r\n");
    assertThat(ex.seen().headers().getAll("x-forwarded-for")).containsExactly("198.51.100.7, 127.0.0.2, 127.0.0.1");
  }

  /** An IPv6 client is named as RFC 5952 writes it (::1), not 0:0:0:0:0:0:0:1, to backends and in logs. */
  @Test
  void anIpv6ClientIsNamedInItsShortForm() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("listeners = [ { address = \"[::1]:0\" } ]").start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      assertThat(backend.requests().get(0).header("x-forwarded-for")).isEqualTo("::1");
      assertThat(backend.requests().get(0).header("forwarded")).startsWith("for=\"[::1]\"");
    }
  }

  /** No proxy sends X_Forwarded_For: one that a trusted proxy passes on is its client's, and goes. */
  @Test
  void aTrustedProxysUnderscoreSpellingsAreDropped() throws Exception {
    Exchange ex = roundTripWith("geo.trusted-proxies = [\"127.0.0.0/8\"]", "GET / HTTP/1.1\r\nHost: app.test\r\n"
        + "X-Forwarded-For: 10.9.9.9\r\nX_Forwarded_For: 6.6.6.6\r\nX_Real_IP: 6.6.6.6\r\n\r\n");
    assertThat(ex.seen().header("x-forwarded-for")).isEqualTo("10.9.9.9, 127.0.0.1");
    assertThat(ex.seen().headers().contains("X_Forwarded_For")).isFalse();
    assertThat(ex.seen().headers().contains("X_Real_IP")).isFalse();
  }

  @Test
  void withTrustedHopsAnyPeersForwardingHeadersAreKept() throws Exception {
    Exchange ex = roundTripWith("geo.trusted-hops = 1", SPOOFED);
    assertThat(ex.seen().header("x-forwarded-for")).isEqualTo("10.9.9.9, 127.0.0.1");
    assertThat(ex.seen().header("x-real-ip")).isEqualTo("10.9.9.9");
  }

  @Test
  void aPathIsRoutedAndForwardedWithItsSlashesMerged() throws Exception {
    Exchange ex = roundTrip("GET //admin//users?x=1 HTTP/1.1\r\nHost: app.test\r\n\r\n");
    assertThat(ex.seen().uri()).isEqualTo("/admin/users?x=1");
  }

  @Test
  void anEncodedSlashIsRefusedByDefaultAndDecodedWhenConfigured() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start();
        RawHttpClient client = proxy.connect()) {
      client.send("GET /admin%2Fsecret HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(400);
      assertThat(backend.requests()).isEmpty();
    }
    Exchange decoded = roundTripWith("paths.encoded-slash = decode",
        "GET /admin%2Fsecret HTTP/1.1\r\nHost: app.test\r\n\r\n");
    assertThat(decoded.seen().uri()).isEqualTo("/admin/secret");
  }

  @Test
  void connectionCannotRemoveTheRequestId() throws Exception {
    Exchange ex = roundTrip("GET / HTTP/1.1\r\nHost: app.test\r\nConnection: X-Request-Id\r\n\r\n");

    String echoed = ex.response().header("x-request-id");
    assertThat(echoed).matches(HEX_ID);
    assertThat(ex.seen().header("x-request-id")).as("the id the backend saw").isEqualTo(echoed);
  }

  @Test
  void connectionCannotRemoveAClientsWellFormedRequestId() throws Exception {
    Exchange ex = roundTrip("GET / HTTP/1.1\r\nHost: app.test\r\nConnection: X-Request-Id\r\n"
        + "X-Request-Id: client-id-1\r\n\r\n");

    // Whether the client's id or a new one is used, backend and client must see the same id.
    String echoed = ex.response().header("x-request-id");
    assertThat(echoed).isNotNull();
    assertThat(ex.seen().header("x-request-id")).as("the id the backend saw").isEqualTo(echoed);
  }

  @Test
  void forwardingHeadersDescribeTheClientHop() throws Exception {
    Exchange ex = roundTripWith("geo.trusted-proxies = [\"127.0.0.1\"]", "GET /f HTTP/1.1\r\nHost: app.test:8080\r\n"
        + "X-Forwarded-For: 203.0.113.7, 198.51.100.1\r\n\r\n");

    assertThat(ex.seen().header("x-forwarded-for")).isEqualTo("203.0.113.7, 198.51.100.1, 127.0.0.1");
    assertThat(ex.seen().header("x-forwarded-proto")).isEqualTo("http");
    assertThat(ex.seen().header("x-forwarded-host")).isEqualTo("app.test:8080");
    assertThat(ex.seen().header("forwarded")).isEqualTo("for=127.0.0.1;host=\"app.test:8080\";proto=http");
    assertThat(ex.seen().header("host")).as("Host passes through unchanged").isEqualTo("app.test:8080");
  }

  @Test
  void viaIsAddedOnRequestAndResponse() throws Exception {
    Exchange ex = roundTrip("GET / HTTP/1.1\r\nHost: app.test\r\nVia: 1.0 edge-cache\r\n\r\n");

    assertThat(ex.seen().header("via")).isEqualTo("1.0 edge-cache, 1.1 meridian");
    assertThat(ex.response().header("via")).contains("1.1 meridian");
  }

  @Test
  void wellFormedRequestIdIsKeptAndEchoed() throws Exception {
    Exchange ex = roundTrip("GET / HTTP/1.1\r\nHost: app.test\r\nX-Request-Id: trace-42.abc_DEF:9\r\n\r\n");

    assertThat(ex.seen().header("x-request-id")).isEqualTo("trace-42.abc_DEF:9");
    assertThat(ex.response().header("x-request-id")).isEqualTo("trace-42.abc_DEF:9");
  }

  @ParameterizedTest
  @ValueSource(strings = {"has spaces in it", "semi;colon", "LONG", ""})
  void malformedRequestIdIsReplacedByAGeneratedOne(String given) throws Exception {
    String id = given.equals("LONG") ? "a".repeat(300) : given;
    Exchange ex = roundTrip("GET / HTTP/1.1\r\nHost: app.test\r\nX-Request-Id: " + id + "\r\n\r\n");

    String seen = ex.seen().header("x-request-id");
    assertThat(seen).matches(HEX_ID);
    assertThat(ex.seen().headers().getAll("x-request-id")).hasSize(1);
    assertThat(ex.response().header("x-request-id")).isEqualTo(seen);
  }

  @Test
  void requestWithoutIdGetsOneThatTheJdkClientSeesOnTheResponse() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders());
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).start()) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(proxy.url("/jdk")))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());

      String id = response.headers().firstValue("x-request-id").orElseThrow();
      assertThat(id).matches(HEX_ID);
      assertThat(response.body()).contains("x-request-id: " + id + "\n");
      assertThat(response.headers().firstValue("via")).hasValueSatisfying(v -> assertThat(v).contains("1.1 meridian"));
    }
  }

  @Test
  void rewriteHostSendsTheBackendsAuthority() throws Exception {
    Exchange ex = roundTrip("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n", "rewrite-host = true");

    assertThat(ex.seen().header("host")).isEqualTo("127.0.0.1:" + ex.backendPort());
    assertThat(ex.seen().header("x-forwarded-host")).isEqualTo("app.test");
  }
}
