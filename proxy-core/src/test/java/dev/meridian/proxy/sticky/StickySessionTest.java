package dev.meridian.proxy.sticky;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.balancer.StickyCookie;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.BackendProcess;
import dev.meridian.proxy.testing.ManualClock;
import dev.meridian.proxy.testing.TestBackend;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sticky sessions end to end: real clients, backends (in-process, and processes killed with SIGKILL),
 * one or two Meridian instances sharing a keys file.
 */
class StickySessionTest {
  private static final String GROUP = "app";
  private static final String COOKIE = "mrd_aff";
  private static final byte[] SECRET_1 = secret(1);
  private static final byte[] SECRET_2 = secret(2);

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private final Map<String, TestBackend> backends = new LinkedHashMap<>();
  private final Map<String, BackendProcess> processes = new LinkedHashMap<>();
  private final List<MeridianInstance> proxies = new ArrayList<>();

  /** What a client saw: status, the answering backend (its body), Meridian's cookie if set, the decision. */
  private record Answer(int status, String backend, String setCookie, String decision, String body) {
    /** The value Set-Cookie gave, or null. */
    String cookieValue() {
      if (setCookie == null) {
        return null;
      }
      int eq = setCookie.indexOf('=');
      int semi = setCookie.indexOf(';');
      return setCookie.substring(eq + 1, semi < 0 ? setCookie.length() : semi);
    }
  }

  @AfterEach
  void stop() throws InterruptedException {
    proxies.forEach(p -> p.stop(Duration.ZERO));
    backends.values().forEach(TestBackend::close);
    for (BackendProcess p : processes.values()) {
      p.close();
    }
  }

  private static byte[] secret(int seed) {
    byte[] s = new byte[32];
    for (int i = 0; i < s.length; i++) {
      s[i] = (byte) (seed * 31 + i * 7);
    }
    return s;
  }

  private Path writeKeys(String... idsAndSecrets) throws IOException {
    Path file = dir.resolve("sticky-keys.json");
    StringBuilder json = new StringBuilder("[\n");
    for (int i = 0; i < idsAndSecrets.length; i += 2) {
      json.append(i == 0 ? "" : ",\n").append("  { \"id\": \"").append(idsAndSecrets[i])
          .append("\", \"secret\": \"").append(idsAndSecrets[i + 1]).append("\" }");
    }
    Path tmp = dir.resolve("keys.tmp");
    Files.writeString(tmp, json.append("\n]\n"), StandardCharsets.UTF_8);
    return Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static String b64(byte[] secret) {
    return Base64.getEncoder().encodeToString(secret);
  }

  private void startBackends(String... ids) {
    for (String id : ids) {
      backends.put(id, TestBackend.start(TestBackend.ok(id)));
    }
  }

  private String backendList() {
    StringBuilder list = new StringBuilder();
    backends.forEach((id, b) -> list.append(entry(id, b.port())));
    processes.forEach((id, p) -> list.append(entry(id, p.port())));
    return list.toString();
  }

  private static String entry(String id, int port) {
    return String.format("{ id = \"%s\", address = \"127.0.0.1:%d\", region = \"%s\" }%n", id, port,
        id.substring(0, id.lastIndexOf('-')));
  }

  private String config(String sticky, String groupExtra, Path keys) {
    return "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  timeouts { connect = 1s, response-headers = 3s }\n"
        + (keys == null ? "" : "  sticky { keys-file = \"" + keys + "\", reload-interval = 100ms }\n")
        + "  backend-groups { " + GROUP + " {\n"
        + "    strategy = round-robin\n"
        + "    backends = [\n" + backendList() + "]\n"
        + groupExtra
        + "  } }\n"
        + "  routes = [ { name = \"shop\", backend-group = \"" + GROUP + "\", sticky { cookie = \"" + COOKIE + "\"\n"
        + sticky + " } } ]\n"
        + "}\n";
  }

  private MeridianInstance start(String hocon) throws Exception {
    return start(hocon, new ManualClock(), Clock.systemUTC());
  }

  private MeridianInstance start(String hocon, ManualClock clock, Clock wallClock) throws Exception {
    MeridianInstance proxy = new MeridianInstance(SettingsLoader.parse(hocon, "sticky-test"), clock, wallClock).start();
    proxies.add(proxy);
    return proxy;
  }

  private Answer get(MeridianInstance proxy, String cookieHeader) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/cart"))
        .timeout(Duration.ofSeconds(10));
    if (cookieHeader != null) {
      request.header("Cookie", cookieHeader);
    }
    HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    String setCookie = r.headers().allValues("set-cookie").stream().filter(c -> c.startsWith(COOKIE + "="))
        .findFirst().orElse(null);
    return new Answer(r.statusCode(), r.body(), setCookie, r.headers().firstValue("x-meridian-decision").orElse(""),
        r.body());
  }

  private Answer withCookie(MeridianInstance proxy, String value) throws Exception {
    return get(proxy, "theme=dark; " + COOKIE + "=" + value + "; lang=en");
  }

  private static double counter(MeridianInstance proxy, String name, String... tags) {
    Counter c = proxy.proxy().metrics().registry().find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  private static int admin(MeridianInstance proxy, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + path))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return r.statusCode();
  }

  private static com.fasterxml.jackson.databind.JsonNode backendsDocument(MeridianInstance proxy) throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(adminGet(proxy, "/admin/api/backends"));
  }

  private static String scrape(MeridianInstance proxy) throws Exception {
    return adminGet(proxy, "/metrics");
  }

  private static String adminGet(MeridianInstance proxy, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return r.body();
  }

  @Test
  void aPinnedClientReachesOneBackendForAThousandRequestsAndUnpinnedOnesSpread() throws Exception {
    startBackends("us-east-1", "us-east-2", "us-east-3");
    MeridianInstance proxy = start(config("", "", writeKeys("k1", b64(SECRET_1))));

    Answer first = get(proxy, null);
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.setCookie()).as("the response that made the pin sets the cookie")
        .matches(COOKIE + "=[A-Za-z0-9_-]+; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax");
    assertThat(first.cookieValue().length()).isLessThanOrEqualTo(100);
    assertThat(first.decision()).startsWith("sticky new pin " + first.backend());

    for (int i = 0; i < 1000; i++) {
      Answer a = withCookie(proxy, first.cookieValue());
      assertThat(a.backend()).as("request " + i).isEqualTo(first.backend());
      assertThat(a.setCookie()).as("a pin that was honoured is not set again").isNull();
      assertThat(a.decision()).isEqualTo("sticky " + first.backend());
    }
    assertThat(counter(proxy, "meridian.sticky.pins", "route", "shop", "result", "honoured")).isEqualTo(1000);

    Set<String> unpinned = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      Answer a = get(proxy, null);
      assertThat(a.setCookie()).isNotNull();
      unpinned.add(a.backend());
    }
    assertThat(unpinned).as("clients without a cookie are balanced as usual").hasSize(3);
  }

  @Test
  void aCookieFromOneInstanceIsHonouredByAnotherWithTheSameKeysAndReplacedByOneWithout() throws Exception {
    startBackends("us-east-1", "us-east-2", "us-east-3");
    Path keys = writeKeys("k1", b64(SECRET_1));
    MeridianInstance a = start(config("", "", keys));
    MeridianInstance b = start(config("", "", keys));
    MeridianInstance stranger = start(config("", "", null));

    Answer pinned = get(a, null);
    for (int i = 0; i < 20; i++) {
      Answer other = withCookie(b, pinned.cookieValue());
      assertThat(other.backend()).isEqualTo(pinned.backend());
      assertThat(other.setCookie()).isNull();
    }
    Answer replaced = withCookie(stranger, pinned.cookieValue());
    assertThat(replaced.status()).isEqualTo(200);
    assertThat(replaced.setCookie()).as("an instance without the key replaces the cookie").isNotNull();
    assertThat(replaced.decision()).contains("cookie ignored: unknown-key");
    assertThat(counter(stranger, "meridian.sticky.invalid.cookies", "reason", "unknown-key")).isEqualTo(1);
  }

  @Test
  void aRotatedKeyKeepsOldCookiesUntilTheOldKeyIsRemovedThenReplacesThem() throws Exception {
    startBackends("us-east-1", "us-east-2");
    Path keys = writeKeys("k1", b64(SECRET_1));
    MeridianInstance proxy = start(config("", "", keys));
    String old = get(proxy, null).cookieValue();
    StickyCookie onlyNew = new StickyCookie(List.of(new StickyCookie.Key("k2", SECRET_2)));
    long now = Instant.now().getEpochSecond();

    writeKeys("k2", b64(SECRET_2), "k1", b64(SECRET_1));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
        onlyNew.read(get(proxy, null).cookieValue(), StickyCookie.groupHash(GROUP), now, 3600).isValid())
        .as("new pins are signed with the new first key").isTrue());
    Answer stillPinned = withCookie(proxy, old);
    assertThat(stillPinned.setCookie()).as("a cookie of the old key is honoured while the key is kept").isNull();

    writeKeys("k2", b64(SECRET_2));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      Answer a = withCookie(proxy, old);
      assertThat(a.status()).isEqualTo(200);
      assertThat(a.setCookie()).as("the old key is gone: its cookie is replaced, never refused").isNotNull();
    });
    assertThat(counter(proxy, "meridian.sticky.invalid.cookies", "reason", "unknown-key")).isGreaterThanOrEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"tampered", "truncated", "expired", "other-group", "unknown-key", "garbage", "empty"})
  void aCookieThatIsNotGenuineCurrentAndOursIsReplacedNeverAnError(String kind) throws Exception {
    startBackends("us-east-1", "us-east-2");
    MeridianInstance proxy = start(config("", "", writeKeys("k1", b64(SECRET_1))));
    StickyCookie codec = new StickyCookie(List.of(new StickyCookie.Key("k1", SECRET_1)));
    long now = Instant.now().getEpochSecond();
    String genuine = codec.issue(GROUP, "us-east-2", "us-east", now);
    String value;
    String reason;
    switch (kind) {
      case "tampered" -> {
        byte[] bytes = Base64.getUrlDecoder().decode(genuine);
        bytes[2 + 2 + 4 + 4] ^= 1; // the backend hash: points elsewhere unless the signature is checked
        value = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        reason = "bad-signature";
      }
      case "truncated" -> {
        value = genuine.substring(0, genuine.length() - 6);
        reason = "malformed";
      }
      case "expired" -> {
        value = codec.issue(GROUP, "us-east-2", "us-east", now - 3600);
        reason = "expired";
      }
      case "other-group" -> {
        value = codec.issue("billing", "us-east-2", "us-east", now);
        reason = "other-group";
      }
      case "unknown-key" -> {
        value = new StickyCookie(List.of(new StickyCookie.Key("k9", SECRET_2))).issue(GROUP, "us-east-2", "us-east", now);
        reason = "unknown-key";
      }
      case "garbage" -> {
        value = "%00<script>\u00e9\u00e9";
        reason = "malformed";
      }
      default -> {
        value = "";
        reason = "malformed";
      }
    }
    Answer a = get(proxy, COOKIE + "=" + value);
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.setCookie()).as("the cookie is replaced").isNotNull();
    assertThat(a.decision()).contains("sticky new pin").contains("cookie ignored: " + reason + ")");
    assertThat(counter(proxy, "meridian.sticky.invalid.cookies", "route", "shop", "reason", reason)).isEqualTo(1);
    assertThat(withCookie(proxy, genuine).backend()).as("the genuine one still pins").isEqualTo("us-east-2");
  }

  @Test
  void automaticSecureFollowsTheSchemeATrustedProxysClientUsed() throws Exception {
    startBackends("us-east-1");
    MeridianInstance proxy = start(config("", "", writeKeys("k1", b64(SECRET_1)))
        .replace("  debug-headers = true\n", "  debug-headers = true\n  geo { trusted-proxies = [\"127.0.0.0/8\"] }\n"));
    HttpResponse<String> behindTls = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/cart"))
        .header("X-Forwarded-Proto", "https").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(behindTls.headers().firstValue("set-cookie")).hasValueSatisfying(c -> assertThat(c).contains("; Secure"));
    assertThat(get(proxy, null).setCookie()).as("plain http in front").doesNotContain("Secure");
  }

  @Test
  void aGenuinePinIsFoundBehindAnotherCookieOfTheSameName() throws Exception {
    startBackends("us-east-1", "us-east-2");
    MeridianInstance proxy = start(config("", "", writeKeys("k1", b64(SECRET_1))));
    Answer first = get(proxy, null);
    for (String cookies : List.of(COOKIE + "=planted-by-a-sibling-domain; " + COOKIE + "=" + first.cookieValue(),
        COOKIE + "=; theme=dark; " + COOKIE + "=" + first.cookieValue())) {
      Answer again = get(proxy, cookies);
      assertThat(again.backend()).as(cookies).isEqualTo(first.backend());
      assertThat(again.setCookie()).as("honoured, not replaced").isNull();
    }
  }

  @Test
  void aPinInUseIsRenewedPastHalfItsTtlAndOneIdleForItsTtlIsMadeAfresh() throws Exception {
    startBackends("us-east-1", "us-east-2");
    MutableClock wall = new MutableClock(Instant.parse("2026-12-05T10:00:00Z"));
    MeridianInstance proxy = start(config("ttl = 10m", "", writeKeys("k1", b64(SECRET_1))), new ManualClock(), wall);
    Answer first = get(proxy, null);
    assertThat(first.setCookie()).contains("Max-Age=600");

    wall.advance(Duration.ofSeconds(300));
    assertThat(withCookie(proxy, first.cookieValue()).setCookie()).as("300 s after: half its ttl, kept as it is").isNull();
    wall.advance(Duration.ofSeconds(1));
    Answer renewed = withCookie(proxy, first.cookieValue());
    assertThat(renewed.setCookie()).as("301 s after: renewed").contains("Max-Age=600");
    assertThat(renewed.backend()).as("on the same backend").isEqualTo(first.backend());
    assertThat(renewed.decision()).startsWith("sticky " + first.backend());

    wall.advance(Duration.ofSeconds(599));
    Answer stillPinned = withCookie(proxy, renewed.cookieValue());
    assertThat(stillPinned.backend()).as("900 s after the pin was made, in use: still its backend").isEqualTo(first.backend());
    assertThat(stillPinned.decision()).doesNotContain("cookie ignored");
    assertThat(withCookie(proxy, first.cookieValue()).decision()).as("the first cookie itself is past its ttl")
        .contains("cookie ignored: expired");

    wall.advance(Duration.ofSeconds(600));
    Answer idle = withCookie(proxy, stillPinned.cookieValue());
    assertThat(idle.setCookie()).as("idle for its whole ttl: a new pin").isNotNull();
    assertThat(idle.decision()).contains("cookie ignored: expired");
  }

  @Test
  void aPinnedBackendKilledMovesItsSessionsInItsRegionThenAlongTheFailoverOrder() throws Exception {
    for (String id : List.of("eu-west-1", "eu-west-2", "ap-south-1", "us-east-1")) {
      processes.put(id, BackendProcess.start(id));
    }
    String failover = "    regions { failover { eu-west = [eu-west, ap-south, us-east], default = [us-east, ap-south, eu-west] } }\n";
    MeridianInstance proxy = start(config("", failover, writeKeys("k1", b64(SECRET_1))));
    StickyCookie codec = new StickyCookie(List.of(new StickyCookie.Key("k1", SECRET_1)));
    String pinned = codec.issue(GROUP, "eu-west-1", "eu-west", Instant.now().getEpochSecond());
    assertThat(withCookie(proxy, pinned).backend()).isEqualTo("eu-west-1");

    processes.get("eu-west-1").kill();
    Answer moved = withCookie(proxy, pinned);
    assertThat(moved.status()).isEqualTo(200);
    assertThat(moved.backend()).as("the same region first").isEqualTo("eu-west-2");
    assertThat(moved.setCookie()).isNotNull();
    assertThat(moved.decision()).startsWith("sticky re-pinned eu-west-1->eu-west-2: ");
    assertThat(withCookie(proxy, moved.cookieValue()).backend()).isEqualTo("eu-west-2");

    processes.get("eu-west-2").kill();
    Answer failedOver = withCookie(proxy, moved.cookieValue());
    assertThat(failedOver.status()).isEqualTo(200);
    assertThat(failedOver.backend()).as("eu-west's failover order, not the client's default").isEqualTo("ap-south-1");
    assertThat(failedOver.decision()).startsWith("sticky re-pinned eu-west-2->ap-south-1: ");
    for (int i = 0; i < 20; i++) {
      assertThat(withCookie(proxy, failedOver.cookieValue()).backend()).isEqualTo("ap-south-1");
    }
    assertThat(counter(proxy, "meridian.sticky.pins", "result", "repinned", "reason", "failed")
        + counter(proxy, "meridian.sticky.pins", "result", "repinned", "reason", "unavailable")).isEqualTo(2);
  }

  @Test
  void aStrictSessionIsRefusedWith503NamingTheReasonAndNeverMoved() throws Exception {
    startBackends("us-east-1", "us-east-2");
    MeridianInstance proxy = start(config("strict = true", "", writeKeys("k1", b64(SECRET_1))));
    Answer first = get(proxy, null);
    String pinnedTo = first.backend();

    proxy.proxy().operator().ejectBackend(GROUP, pinnedTo, Duration.ZERO);
    Answer refused = withCookie(proxy, first.cookieValue());
    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.body()).contains("pinned to backend " + pinnedTo).contains("unavailable").contains("strict");
    assertThat(refused.setCookie()).isNull();
    assertThat(counter(proxy, "meridian.sticky.pins", "result", "refused", "reason", "unavailable")).isEqualTo(1);

    proxy.proxy().operator().restoreBackend(GROUP, pinnedTo);
    assertThat(withCookie(proxy, first.cookieValue()).backend()).isEqualTo(pinnedTo);
  }

  @Test
  void aDrainingBackendKeepsItsSessionsForTheDrainTimeTakesNoNewOnesThenIsOut() throws Exception {
    startBackends("us-east-1", "us-east-2", "us-east-3");
    ManualClock clock = new ManualClock();
    MeridianInstance proxy = start(config("", "", writeKeys("k1", b64(SECRET_1))), clock, Clock.systemUTC());
    StickyCookie codec = new StickyCookie(List.of(new StickyCookie.Key("k1", SECRET_1)));
    String session = codec.issue(GROUP, "us-east-2", "us-east", Instant.now().getEpochSecond());

    admin(proxy, "/admin/api/backends/us-east-2/drain?duration=10m");
    for (int i = 0; i < 50; i++) {
      Answer a = withCookie(proxy, session);
      assertThat(a.backend()).as("an existing session, request " + i).isEqualTo("us-east-2");
      assertThat(a.setCookie()).isNull();
    }
    for (int i = 0; i < 60; i++) {
      assertThat(get(proxy, null).backend()).as("a new session").isNotEqualTo("us-east-2");
    }
    com.fasterxml.jackson.databind.JsonNode listed = backendsDocument(proxy).get(GROUP);
    Map<String, long[]> sticky = new HashMap<>();
    listed.forEach(b -> sticky.put(b.get("id").asText(), new long[] {
        b.get("sticky").get("pinned-requests").asLong(), b.get("sticky").get("new-pins").asLong()}));
    assertThat(sticky.get("us-east-2")).as("what an operator watches while a backend drains: its sessions")
        .containsExactly(50, 0);
    assertThat(sticky.get("us-east-1")[1] + sticky.get("us-east-3")[1]).as("new sessions went elsewhere")
        .isEqualTo(60);
    assertThat(scrape(proxy)).contains("meridian_backend_sticky_requests_total{backend=\"us-east-2\","
        + "group=\"app\",pin=\"existing\",region=\"us-east\"} 50.0");

    clock.advance(Duration.ofMinutes(10).plusSeconds(1));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      Answer a = withCookie(proxy, session);
      assertThat(a.backend()).as("after the drain time").isNotEqualTo("us-east-2");
      assertThat(a.setCookie()).isNotNull();
      assertThat(a.decision()).startsWith("sticky re-pinned us-east-2->").contains("unavailable");
    });

    admin(proxy, "/admin/api/backends/" + GROUP + "/us-east-2/undrain");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      seen.add(get(proxy, null).backend());
    }
    assertThat(seen).as("undrained: it takes new sessions again").contains("us-east-2");
  }

  @Test
  void appCookieSessionsStayOnOneBackendAndAFifthBackendMovesAboutAFifthOfThem() throws Exception {
    startBackends("us-east-1", "us-east-2", "us-east-3", "us-east-4");
    String sticky = "mode = app-cookie, app-cookie = JSESSIONID";
    MeridianInstance proxy = start(config(sticky, "", null));
    Map<String, String> before = new HashMap<>();
    for (int s = 0; s < 400; s++) {
      String session = "JSESSIONID=" + Integer.toHexString(s * 7919 + 12345) + ".node";
      Answer a = get(proxy, session);
      assertThat(a.setCookie()).as("app-cookie mode sets no cookie of Meridian's").isNull();
      assertThat(get(proxy, "x=1; " + session).backend()).as("the same session again").isEqualTo(a.backend());
      before.put(session, a.backend());
    }
    assertThat(new HashSet<>(before.values())).hasSize(4);

    startBackends("us-east-5");
    proxy.proxy().reload(SettingsLoader.parse(config(sticky, "", null), "sticky-test-2"));
    int moved = 0;
    for (Map.Entry<String, String> e : before.entrySet()) {
      String now = get(proxy, e.getKey()).backend();
      if (!now.equals(e.getValue())) {
        moved++;
        assertThat(now).as("a moved session goes to the new backend only").isEqualTo("us-east-5");
      }
    }
    assertThat(moved / 400.0).as("about 1/(N+1) = 20% of the sessions move").isBetween(0.12, 0.28);
  }

  @Test
  void anHttp2ClientIsPinnedTheSameWay() throws Exception {
    assumeTrue(installed("curl"), "curl is installed by .ci/run");
    startBackends("us-east-1", "us-east-2", "us-east-3");
    MeridianInstance proxy = start(config("", "", writeKeys("k1", b64(SECRET_1))));
    String url = "http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/cart";
    String first = curl("--http2-prior-knowledge", "-s", "-i", url);
    assertThat(first).startsWith("HTTP/2 200");
    String setCookie = first.lines().filter(l -> l.toLowerCase().startsWith("set-cookie: " + COOKIE + "="))
        .findFirst().orElseThrow();
    String value = setCookie.substring(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
    String backend = first.substring(first.indexOf("\r\n\r\n") + 4);
    for (int i = 0; i < 10; i++) {
      String again = curl("--http2-prior-knowledge", "-s", "-i", "-H", "cookie: a=1", "-H",
          "cookie: " + COOKIE + "=" + value, url);
      assertThat(again).startsWith("HTTP/2 200").endsWith("\r\n\r\n" + backend).doesNotContain("set-cookie: " + COOKIE);
    }
  }

  /**
   * An upgrade that adds a second group's default-named sticky routes renames the first group's
   * cookie: its clients' pins, still under {@code meridian_affinity}, hold and move to the new name.
   */
  @Test
  void pinsUnderTheDefaultNameHoldWhenASecondGroupRenamesTheCookies() throws Exception {
    startBackends("us-east-1", "us-east-2", "us-east-3");
    Path keys = writeKeys("k1", b64(SECRET_1));
    String oneGroup = twoGroupConfig(keys, false);
    MutableClock wall = new MutableClock(Instant.now());
    MeridianInstance before = start(oneGroup, new ManualClock(), wall);
    HttpResponse<String> first = send(before, "/cart", null);
    String oldCookie = cookieSet(first, "meridian_affinity").orElseThrow();
    String pinnedTo = first.body();
    wall.advance(Duration.ofMinutes(10));

    MeridianInstance after = start(twoGroupConfig(keys, true), new ManualClock(), wall);
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> again = send(after, "/cart", "meridian_affinity=" + oldCookie);
      assertThat(again.body()).as("request %d: the pin made before the rename holds", i).isEqualTo(pinnedTo);
    }
    HttpResponse<String> moved = send(after, "/cart", "meridian_affinity=" + oldCookie);
    String newCookie = cookieSet(moved, "meridian_affinity_" + GROUP).orElseThrow();
    assertThat(moved.headers().allValues("set-cookie")).as("the old cookie stays, for instances not yet renamed")
        .noneMatch(c -> c.startsWith("meridian_affinity="));
    assertThat(moved.headers().firstValue("x-meridian-decision").orElse(""))
        .isEqualTo("sticky " + pinnedTo + " (cookie renamed meridian_affinity->meridian_affinity_" + GROUP + ")");
    StickyCookie codec = new StickyCookie(List.of(new StickyCookie.Key("k1", SECRET_1)));
    long now = wall.instant().getEpochSecond();
    assertThat(codec.read(newCookie, StickyCookie.groupHash(GROUP), now, 3600).issuedAtSeconds())
        .as("moving the pin to the new name does not extend it")
        .isEqualTo(codec.read(oldCookie, StickyCookie.groupHash(GROUP), now, 3600).issuedAtSeconds());
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> renamed = send(after, "/cart", "meridian_affinity_" + GROUP + "=" + newCookie);
      assertThat(renamed.body()).isEqualTo(pinnedTo);
      assertThat(renamed.headers().allValues("set-cookie")).as("a pin under its own name is not set again").isEmpty();
    }

    // A fleet mid-rollout (or rolled back): an instance with the old names still reads the old cookie.
    assertThat(send(before, "/cart", "meridian_affinity=" + oldCookie + "; meridian_affinity_" + GROUP + "="
        + newCookie).body()).isEqualTo(pinnedTo);

    HttpResponse<String> account = send(after, "/account", "meridian_affinity=" + oldCookie);
    assertThat(cookieSet(account, "meridian_affinity_account")).as("the other group pins afresh").isPresent();
    assertThat(account.headers().allValues("set-cookie")).as("and leaves the first group's cookie alone")
        .noneMatch(c -> c.startsWith("meridian_affinity="));
    assertThat(counter(after, "meridian.sticky.invalid.cookies", "reason", "other-group"))
        .as("another group's cookie under the former name is not this group's to count").isZero();
    assertThat(counter(after, "meridian.sticky.pins", "route", "shop", "result", "honoured")).isEqualTo(41);
  }

  private String twoGroupConfig(Path keys, boolean secondGroup) {
    return "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  sticky { keys-file = \"" + keys + "\" }\n"
        + "  backend-groups {\n"
        + "    " + GROUP + " { strategy = round-robin, backends = [\n" + backendList() + "] }\n"
        + "    account { backends = [ " + entry("us-east-9", backends.get("us-east-1").port()) + " ] }\n"
        + "  }\n"
        + "  routes = [\n"
        + (secondGroup ? "    { name = \"account\", path-prefix = \"/account\", backend-group = \"account\", sticky {} }\n"
            : "")
        + "    { name = \"shop\", backend-group = \"" + GROUP + "\", sticky {} }\n"
        + "  ]\n"
        + "}\n";
  }

  private HttpResponse<String> send(MeridianInstance proxy, String path, String cookie) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + path))
        .timeout(Duration.ofSeconds(10));
    if (cookie != null) {
      request.header("Cookie", "theme=dark; " + cookie);
    }
    HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r;
  }

  /** The value a response's Set-Cookie gives the named cookie, if it sets it. */
  private static java.util.Optional<String> cookieSet(HttpResponse<String> r, String name) {
    return r.headers().allValues("set-cookie").stream().filter(c -> c.startsWith(name + "="))
        .map(c -> c.substring(name.length() + 1, c.indexOf(';'))).filter(v -> !v.isEmpty()).findFirst();
  }

  private static boolean installed(String tool) {
    try {
      return new ProcessBuilder(tool, "--version").redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String curl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("curl", "--max-time", "10"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  /** A wall clock a test moves by hand. */
  private static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
