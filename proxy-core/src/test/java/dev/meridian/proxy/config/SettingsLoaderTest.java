package dev.meridian.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import dev.meridian.proxy.routing.RetrySettings;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meridian.proxy.config.MeridianSettings.BackendGroupSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import dev.meridian.proxy.config.MeridianSettings.RouteSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsLoaderTest {
  private static final RetrySettings DEFAULT_RETRIES = new RetrySettings(
      2, java.util.Set.of("connect-failure", "reset-before-response"), 0.2, 3, 64 * 1024);

  private static final String EXAMPLE = """
      meridian {
        region = "us-east"
        listeners = [ { name = "web", address = "127.0.0.1:8080" } ]
        admin { address = "127.0.0.1:9901" }
        backend-groups {
          app {
            strategy = "round-robin"
            backends = [
              { address = "127.0.0.1:9001", region = "us-east", weight = 1 }
              { address = "127.0.0.1:9002", region = "eu-west" }
            ]
          }
        }
        routes = [
          { name = "api", host = "*.example.com", path-prefix = "/api/", methods = [GET, POST], backend-group = "app" }
          { name = "default", path-prefix = "/", backend-group = "app" }
        ]
      }
      """;

  @TempDir Path dir;

  /** Environment variables fill a config in (a container's region, say); an unset optional one leaves its key out. */
  @Test
  void environmentVariablesAreSubstitutedAndAnUnsetOptionalOneLeavesTheKeyOut() throws Exception {
    String path = System.getenv("PATH");
    org.junit.jupiter.api.Assumptions.assumeTrue(path != null && !path.isEmpty());
    MeridianSettings s = SettingsLoader.load(write("env.conf", """
        meridian {
          region = ${?MERIDIAN_TEST_VARIABLE_THAT_IS_NEVER_SET}
          debug-headers = true
          debug-headers = ${?MERIDIAN_TEST_VARIABLE_THAT_IS_NEVER_SET}
          cookie-secret = ${PATH}
          listeners = [ { name = "web", address = "127.0.0.1:8080" } ]
          backend-groups { app { backends = [ { address = "127.0.0.1:9001" } ] } }
          routes = [ { backend-group = "app" } ]
        }
        """));
    assertThat(s.region()).isEmpty();
    assertThat(s.debugHeaders()).as("a default overridden by an unset variable keeps the default").isTrue();
    assertThat(s.cookieSecret()).contains(path);
    assertThat(s.source()).contains("cookie-secret").contains(RedactedConfig.REDACTED).doesNotContain(path);
  }

  /**
   * What the admin API's config shows: only meridian { } (other top-level keys hold values for
   * substitutions), a secret's text redacted wherever else it appears, a URL's user and password and
   * credential-like query parameters redacted.
   */
  @Test
  void theRenderedConfigurationLeavesNoSecretInClear() throws Exception {
    MeridianSettings s = SettingsLoader.load(write("vars.conf", """
        vars { upstream-credential = "AKIAEXAMPLESECRET123", pw = "hunter2-hunter2" }
        meridian {
          cookie-secret = ${vars.upstream-credential}
          listeners = [ { name = "web", address = "127.0.0.1:8080" } ]
          backend-groups { app {
            backends = [ { address = "127.0.0.1:9001" } ]
            health.active { path = "/healthz?apikey=SECRETAPIKEY&region=eu",
                            headers { Authorization = "Basic dXNlcjpwYXNzd29yZA==", Cookie = "session=COOKIEVAL" } }
          } }
          headers { request-id-header = "X-"${vars.upstream-credential} }
          routes = [ { backend-group = "app" } ]
        }
        """));
    assertThat(s.source()).doesNotContain("AKIAEXAMPLESECRET123").doesNotContain("hunter2").doesNotContain("SECRETAPIKEY")
        .doesNotContain("dXNlcjpwYXNzd29yZA").doesNotContain("COOKIEVAL")
        .doesNotContain("vars").contains("apikey=" + RedactedConfig.REDACTED + "&region=eu");
    assertThat(RedactedConfig.scrub("https://admin:kubepassw0rd@10.0.0.1:6443/api"))
        .isEqualTo("https://" + RedactedConfig.REDACTED + "@10.0.0.1:6443/api");
    assertThat(RedactedConfig.scrub("/status?access_token=abc&x=1&sig=zz"))
        .isEqualTo("/status?access_token=" + RedactedConfig.REDACTED + "&x=1&sig=" + RedactedConfig.REDACTED);
    assertThat(RedactedConfig.scrub("/a/b?region=eu")).isEqualTo("/a/b?region=eu");
    assertThat(RedactedConfig.scrub("/hc?access%5Ftoken=S&x=1#token=F"))
        .isEqualTo("/hc?access%5Ftoken=" + RedactedConfig.REDACTED + "&x=1#token=" + RedactedConfig.REDACTED);
    assertThat(RedactedConfig.scrub("https://user:p@ss@host/x")).isEqualTo("https://" + RedactedConfig.REDACTED + "@host/x");
    assertThat(RedactedConfig.scrub("/h?x=1;token=abc")).isEqualTo("/h?x=1;token=" + RedactedConfig.REDACTED);
    assertThat(RedactedConfig.scrub("/h?monkey=1&author=2&design=3&X-Amz-Signature=s"))
        .isEqualTo("/h?monkey=1&author=2&design=3&X-Amz-Signature=" + RedactedConfig.REDACTED);
    assertThat(RedactedConfig.scrub("^/old/(.*)?key=(.*)$")).as("not a URL or path").isEqualTo("^/old/(.*)?key=(.*)$");
  }

  /** An active check on a management port, with HEAD and a header of the operator's. */
  @Test
  void anActiveCheckTakesAPortAMethodAndHeaders() throws Exception {
    MeridianSettings s = SettingsLoader.load(write("check.conf", """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:8080" } ]
          backend-groups { app {
            backends = [ { address = "127.0.0.1:9001" } ]
            health.active { port = 9100, method = head, headers { X-Probe = meridian, Authorization = "Bearer t" } }
          } }
          routes = [ { backend-group = "app" } ]
        }
        """));
    dev.meridian.health.ActiveCheckSettings active = s.backendGroups().get("app").health().active().orElseThrow();
    assertThat(active.port()).isEqualTo(9100);
    assertThat(active.method()).isEqualTo("HEAD");
    assertThat(active.headers()).containsEntry("X-Probe", "meridian").containsEntry("Authorization", "Bearer t");
    assertThatThrownBy(() -> SettingsLoader.load(write("bad-check.conf", """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:8080" } ]
          backend-groups { app {
            backends = [ { address = "127.0.0.1:9001" } ]
            health.active { method = POST, headers { Host = other } }
          } }
          routes = [ { backend-group = "app" } ]
        }
        """))).hasMessageContaining("bad-check.conf: 5: meridian.backend-groups.app.health.active")
        .hasMessageContaining("method: POST (expected: GET or HEAD)");
  }

  @Test
  void loadsTheDocumentedExample() throws Exception {
    MeridianSettings s = SettingsLoader.load(write("my.conf", EXAMPLE));

    assertThat(s.region()).contains("us-east");
    assertThat(s.listeners()).singleElement().satisfies(l -> {
      assertThat(l.name()).isEqualTo("web");
      assertThat(l.address()).isEqualTo(new HostPort("127.0.0.1", 8080));
    });
    assertThat(s.admin().enabled()).isTrue();
    assertThat(s.admin().address()).isEqualTo(new HostPort("127.0.0.1", 9901));

    BackendGroupSettings app = s.backendGroups().get("app");
    assertThat(app.strategy()).isEqualTo("round-robin");
    assertThat(app.backends()).containsExactly(
        new BackendSettings("127.0.0.1:9001", new HostPort("127.0.0.1", 9001), "us-east", "", 1),
        new BackendSettings("127.0.0.1:9002", new HostPort("127.0.0.1", 9002), "eu-west", "", 1));

    assertThat(s.routes()).containsExactly(
        new RouteSettings("api", Optional.of("*.example.com"), "/api/", List.of("GET", "POST"), "app",
            false, List.of("websocket"), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), DEFAULT_RETRIES, Optional.empty(), Optional.empty(), Optional.empty()),
        new RouteSettings("default", Optional.empty(), "/", List.of(), "app", false, List.of("websocket"),
            Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), DEFAULT_RETRIES, Optional.empty(),
            Optional.empty(), Optional.empty()));
  }

  @Test
  void fillsDefaultsFromReferenceConf() throws Exception {
    MeridianSettings s = SettingsLoader.parse("""
        meridian {
          listeners = [ { address = "127.0.0.1:0" } ]
          backend-groups.app.backends = [ { address = "10.0.0.1:80" } ]
          routes = [ { backend-group = app, methods = [get] } ]
        }
        """, "defaults.conf");

    assertThat(s.region()).isEmpty();
    assertThat(s.listeners().get(0).name()).isEqualTo("listener-0");
    BackendSettings backend = s.backendGroups().get("app").backends().get(0);
    assertThat(backend.id()).isEqualTo("10.0.0.1:80");
    assertThat(backend.region()).isEqualTo("default");
    assertThat(s.routes().get(0).name()).isEqualTo("route-0");
    assertThat(s.routes().get(0).methods()).containsExactly("GET");
    assertThat(s.server().transport()).isEqualTo("auto");
    assertThat(s.server().drainTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.limits().maxHeaderBytes()).isEqualTo(32 * 1024);
    assertThat(s.limits().maxRequestLine()).isEqualTo(8 * 1024);
    assertThat(s.timeouts().connect()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.upstream().writeBufferHigh()).isEqualTo(64 * 1024);
    assertThat(s.headers().requestIdHeader()).isEqualTo("X-Request-Id");
  }

  @Test
  void backendsTakeTheInstanceRegionByDefault() throws Exception {
    MeridianSettings s = SettingsLoader.parse(minimal("region = ap-south"), "t.conf");

    assertThat(s.backendGroups().get("app").backends().get(0).region()).isEqualTo("ap-south");
  }

  /**
   * An optional substitution of an environment variable (how a second process of a restart without loss
   * gets its own admin address) loads: unset, the value before it stays; reuse-port is read, off by default.
   */
  @Test
  void anEnvironmentSubstitutionLoadsAndReusePortIsRead() throws Exception {
    MeridianSettings s = SettingsLoader.parse(minimal(
        "admin { address = \"127.0.0.1:9911\", address = ${?MERIDIAN_TEST_VARIABLE_NEVER_SET} }\n"
        + "server.reuse-port = true"), "t.conf");

    assertThat(s.admin().address()).isEqualTo(new HostPort("127.0.0.1", 9911));
    assertThat(s.server().reusePort()).isTrue();
    assertThat(s.source()).contains("9911");
    assertThat(SettingsLoader.parse(minimal(""), "t.conf").server().reusePort()).isFalse();
  }

  @Test
  void ignoresKeysOutsideMeridian() throws Exception {
    assertThat(SettingsLoader.parse("akka.loglevel = DEBUG\n" + minimal(""), "t.conf").listeners()).hasSize(1);
  }

  @Test
  void reportsUnknownKeyWithFileAndLine() throws IOException {
    String text = EXAMPLE.replace("{ name = \"default\", path-prefix", "{ name = \"default\", path-prefx");
    Path file = write("my.conf", text);

    assertThatThrownBy(() -> SettingsLoader.load(file))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessage(file + ": 16: meridian.routes[1].path-prefx: unknown key (expected: one of "
            + "name, host, path-prefix, methods, backend-group, rewrite-host, upgrades, tunnel-idle, response-headers, response-deadline, residency, retries, sticky, cache, hedge)");
  }

  /** A misspelt root names itself, not only the "no listeners" that follows from it. */
  @Test
  void aMisspeltRootKeyIsNamedAtItsLine() throws Exception {
    assertThat(problems(minimal("").replace("meridian {", "meridan {")))
        .contains("t.conf: 1: meridan: unknown key at the top of the file (expected: meridian { ... },"
            + " which holds every setting)");
    assertThat(problems(minimal("") + "Meridian { region = x }\n"))
        .containsExactly("t.conf: 7: Meridian: unknown key at the top of the file (expected: meridian { ... },"
            + " which holds every setting)");
    assertThat(problems(minimal("") + "timeouts.connect = 100ms\n")).containsExactly(
        "t.conf: 7: timeouts: a setting of meridian outside meridian { ... }, where it would be ignored"
            + " (expected: inside it, as meridian.timeouts)");
    // A setting's name kept at the top for a substitution the file makes inside meridian passes.
    assertThat(SettingsLoader.parse("timeouts { connect = 3s }\n" + minimal("timeouts = ${timeouts}"), "t.conf")
        .timeouts().connect()).hasSeconds(3);
    // So does one a substitution reads deeper in (a template's region, a route's cache block).
    assertThat(SettingsLoader.parse("region = eu-west\ncache { ttl = 60s }\n" + minimal("")
            .replace("address = \"10.0.0.1:80\"", "address = \"10.0.0.1:80\", region = ${region}")
            .replace("backend-group = app", "backend-group = app, cache = ${cache}"), "t.conf")
        .backendGroups().get("app").backends().get(0).region()).isEqualTo("eu-west");
    // A value kept at the top for substitutions is no mistake.
    assertThat(SettingsLoader.parse("names { region = eu-west }\n" + minimal("region = ${names.region}"), "t.conf")
        .region()).contains("eu-west");
  }

  @Test
  void aRouteResponseDeadlineOverridesTheDefaultAndZeroTurnsItOff() throws Exception {
    String text = minimal("timeouts.response-deadline = 5s").replace("routes = [ { backend-group = app } ]",
        "routes = [ { name = a, path-prefix = \"/a\", backend-group = app, response-deadline = 800ms },"
            + " { name = b, path-prefix = \"/b\", backend-group = app, response-deadline = 0 },"
            + " { name = c, backend-group = app } ]");
    MeridianSettings s = SettingsLoader.parse(text, "t.conf");

    assertThat(s.timeouts().responseDeadline()).hasSeconds(5);
    assertThat(s.routes()).extracting(r -> r.responseDeadline().orElse(null))
        .containsExactly(java.time.Duration.ofMillis(800), java.time.Duration.ZERO, null);
    assertThat(SettingsLoader.parse(minimal(""), "t.conf").timeouts().responseDeadline())
        .as("off by default").isZero();
    assertThat(problems(minimal("timeouts.response-deadline = -1s"))).singleElement().asString()
        .contains("meridian.timeouts.response-deadline").contains("negative");
  }

  @Test
  void reportsUnknownKeysInSectionsAndBackends() {
    String text = minimal("timeouts { conect = 2s }")
        .replace("address = \"10.0.0.1:80\"", "address = \"10.0.0.1:80\", wieght = 2");

    assertThat(problems(text)).containsExactlyInAnyOrder(
        "t.conf: 2: meridian.timeouts.conect: unknown key (expected: one of "
            + "client-idle, connect, response-deadline, response-headers, tunnel-idle, upstream-idle)",
        "t.conf: 4: meridian.backend-groups.app.backends[0].wieght: unknown key (expected: one of "
            + "id, address, dns, srv, kubernetes, region, zone, weight)");
  }

  @Test
  void reportsWrongTypes() {
    String text = minimal("timeouts.connect = soon\nlimits.max-header-bytes = lots")
        .replace("address = \"10.0.0.1:80\"", "address = \"10.0.0.1:80\", weight = abc");

    assertThat(problems(text)).containsExactlyInAnyOrder(
        "t.conf: 2: meridian.timeouts.connect: \"soon\" is not a duration "
            + "(expected: a positive duration such as 2s or 500ms)",
        "t.conf: 3: meridian.limits.max-header-bytes: \"lots\" is not a size "
            + "(expected: a positive size such as 8KiB or 1MiB, below 2GiB)",
        "t.conf: 5: meridian.backend-groups.app.backends[0].weight: \"abc\" is not a whole number "
            + "(expected: a whole number >= 1)");
  }

  @Test
  void reportsAnHttp2ConnectionBufferSmallerThanOneBackendRead() throws InvalidConfigException {
    assertThat(problems(minimal("limits.http2-connection-buffer = 16KiB"))).containsExactly(
        "t.conf: 2: meridian.limits.http2-connection-buffer: 16384 bytes is too small (expected: at least 64KiB,"
            + " one backend read)");
    assertThat(SettingsLoader.parse(minimal("limits.http2-connection-buffer = 4MiB"), "t.conf").limits()
        .http2ConnectionBuffer()).isEqualTo(4 << 20);
    assertThat(SettingsLoader.parse(minimal(""), "t.conf").limits().http2ConnectionBuffer()).isEqualTo(1 << 20);
  }

  /** reference.conf documents 0 as "no minimum" for the request body rate; a negative size is refused. */
  @Test
  void aMinimumRequestBodyRateOfZeroMeansNone() throws InvalidConfigException {
    assertThat(SettingsLoader.parse(minimal("limits.min-request-body-rate = 0"), "t.conf").limits()
        .minRequestBodyRate()).isZero();
    assertThat(problems(minimal("limits.min-request-body-rate = -1"))).singleElement().asString()
        .contains("meridian.limits.min-request-body-rate");
  }

  @Test
  void reportsARouteToAMissingGroup() {
    assertThat(problems(minimal("").replace("backend-group = app", "backend-group = ap")))
        .containsExactly("t.conf: 5: meridian.routes[0].backend-group: no backend group 'ap' (expected: one of app)");
  }

  @Test
  void readsTheTunnelIdleTimeoutOfTheServerAndOfARoute() throws InvalidConfigException {
    MeridianSettings settings = SettingsLoader.parse(minimal("timeouts { tunnel-idle = 10m }")
        .replace("backend-group = app", "backend-group = app, tunnel-idle = 1h"), "t.conf");
    assertThat(settings.timeouts().tunnelIdle()).isEqualTo(Duration.ofMinutes(10));
    assertThat(settings.routes().get(0).tunnelIdle()).contains(Duration.ofHours(1));
    assertThat(SettingsLoader.parse(minimal(""), "t.conf").routes().get(0).tunnelIdle()).isEmpty();
    assertThat(SettingsLoader.parse(minimal(""), "t.conf").timeouts().tunnelIdle()).isEqualTo(Duration.ofSeconds(60));
    assertThat(SettingsLoader.parse(minimal("timeouts { client-idle = 300s, upstream-idle = 120s }"), "t.conf")
        .timeouts().tunnelIdle()).as("unset: the shorter idle timeout, as before tunnel-idle").isEqualTo(Duration.ofSeconds(120));
    assertThat(problems(minimal("").replace("backend-group = app", "backend-group = app, tunnel-idle = 0s")))
        .singleElement().asString()
        .startsWith("t.conf: 5: meridian.routes[0].tunnel-idle: \"0s\" is not positive");
  }

  @Test
  void reportsARegionListedTwiceInAFailoverOrder() {
    String text = EXAMPLE.replace("strategy = \"round-robin\"",
        "strategy = \"round-robin\", regions { failover { eu-west = [eu-west, us-east, eu-west] } }");
    assertThat(problems(text)).singleElement().asString()
        .contains("meridian.backend-groups.app.regions.failover.eu-west: region 'eu-west' is listed twice");
  }

  /** With a default order, a backend region no order lists would never get a request: a typo, most often. */
  @Test
  void reportsABackendRegionThatNoFailoverOrderReaches() throws Exception {
    String group = "backend-groups { app { backends = [ { address = \"10.0.0.1:80\", region = eu-west },"
        + " { address = \"10.0.0.2:80\", region = us-east }, { address = \"10.0.0.3:80\", region = us_east } ]\n"
        + " regions { %s } } }\n";
    String text = minimal("").replace("backend-groups { app { backends = [ { address = \"10.0.0.1:80\" } ] } }\n",
        group.formatted("failover { eu-west = [eu-west, us-east], default = [eu-west, us-east] }"));
    assertThat(problems(text)).containsExactly("t.conf: 5: meridian.backend-groups.app.regions.failover: region 'us_east'"
        + " of this group's backends is in no order (the orders name eu-west, us-east), so its backends would never"
        + " get a request (expected: the region in an order, or the backends' region spelt as the orders spell it)");
    // Without a default, a client of another region walks every region: no problem.
    SettingsLoader.parse(minimal("").replace("backend-groups { app { backends = [ { address = \"10.0.0.1:80\" } ] } }\n",
        group.formatted("failover { eu-west = [eu-west, us-east] }")), "t.conf");
    // The writer region is reached by writes without an order.
    SettingsLoader.parse(minimal("").replace("backend-groups { app { backends = [ { address = \"10.0.0.1:80\" } ] } }\n",
        group.formatted("failover { default = [eu-west, us-east] }, writer = us_east")), "t.conf");
  }

  @Test
  void reportsAViaPseudonymThatIsNotAToken() throws InvalidConfigException {
    assertThat(problems(minimal("headers { via = \"edge one\" }"))).singleElement().asString()
        .startsWith("t.conf: 2: meridian.headers.via: 'edge one' is not a Via pseudonym");
    // A character past Latin-1 would reach the wire as its low byte: U+010A as a line feed.
    assertThat(problems(minimal("headers { via = \"edge\u010a\" }"))).singleElement().asString()
        .contains("meridian.headers.via");
    assertThat(SettingsLoader.parse(minimal("headers { via = \"edge-1:8080\" }"), "t.conf").headers().via())
        .isEqualTo("edge-1:8080");
    assertThat(SettingsLoader.parse(minimal("headers { via = \"\" }"), "t.conf").headers().via()).isEmpty();
  }

  @Test
  void reportsBadAddresses() {
    String text = minimal("")
        .replace("127.0.0.1:0", "127.0.0.1")
        .replace("10.0.0.1:80", "10.0.0.1:0");

    assertThat(problems(text)).containsExactly(
        "t.conf: 3: meridian.listeners[0].address: '127.0.0.1' has no port (expected: host:port)",
        "t.conf: 4: meridian.backend-groups.app.backends[0].address: '10.0.0.1:0' has port 0 (expected: port 1-65535)");
  }

  @Test
  void listsProblemsInTheOrderOfTheFilesLinesNotTheOrderTheyWereFound() {
    // Listeners are read before backend groups; the file has them the other way round.
    String text = "meridian {\n"
        + "backend-groups { app { backends = [ { address = \"10.0.0.1:0\" } ] } }\n"
        + "routes = [ { backend-group = app } ]\n"
        + "listeners = [ { address = \"127.0.0.1\" } ]\n"
        + "timeouts { conect = 2s }\n"
        + "}\n";

    assertThat(problems(text)).containsExactly(
        "t.conf: 2: meridian.backend-groups.app.backends[0].address: '10.0.0.1:0' has port 0 (expected: port 1-65535)",
        "t.conf: 4: meridian.listeners[0].address: '127.0.0.1' has no port (expected: host:port)",
        "t.conf: 5: meridian.timeouts.conect: unknown key (expected: one of "
            + "client-idle, connect, response-deadline, response-headers, tunnel-idle, upstream-idle)");
  }

  @Test
  void aProblemWithADefaultValueSaysSoAndNamesTheLineOfItsSection() {
    // max-object-size keeps its default (8MiB) while the file makes max-size smaller.
    assertThat(problems(minimal("cache {\n  max-size = 1MiB\n}"))).containsExactly(
        "t.conf: 3: meridian.cache.max-object-size: the default 8388608 bytes is more than max-size 1048576"
            + " (expected: at most max-size)");
  }

  @Test
  void reportsDuplicateListenerAddresses() {
    String text = minimal("").replace("{ address = \"127.0.0.1:0\" }",
        "{ name = a, address = \"127.0.0.1:8080\" }\n{ name = b, address = \"127.0.0.1:8080\" }");

    assertThat(problems(text)).containsExactly("t.conf: 4: meridian.listeners[1].address: "
        + "127.0.0.1:8080 is also meridian.listeners[0].address (expected: unique listener addresses)");
  }

  @Test
  void reportsSyntaxErrorWithLine() throws IOException {
    Path file = write("broken.conf", "meridian {\n  listeners = [\n    { address = \"x:1\" \n  ]\n");

    assertThatThrownBy(() -> SettingsLoader.load(file))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageStartingWith(file + ": 4: syntax error: ")
        .hasMessageEndingWith("(expected: valid HOCON)");
  }

  @Test
  void reportsAMissingFile() {
    Path file = dir.resolve("absent.conf");

    assertThatThrownBy(() -> SettingsLoader.load(file))
        .hasMessageStartingWith(file + ": cannot read: ");
  }

  @Test
  void reportsTheLineOfARequiredIncludeThatIsMissing() throws IOException {
    Path file = write("main.conf", "meridian {\n  # the include of routes.conf follows\n"
        + "  include required(\"routes.conf\")\n  listeners = [ { address = \"127.0.0.1:0\" } ]\n}\n");

    assertThatThrownBy(() -> SettingsLoader.load(file))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageStartingWith(file + ": 3: include: 'routes.conf' was not found (looked for "
            + dir.toAbsolutePath().resolve("routes.conf"));
  }

  @Test
  void aBackendInTwoGroupsIsSpokenToOneWay() {
    String text = """
        meridian {
          listeners = [ { address = "127.0.0.1:0" } ]
          backend-groups {
            plain { backends = [ { address = "127.0.0.1:8443" }, { id = "x", address = "127.0.0.1:9000" } ] }
            also { backends = [ { address = "127.0.0.1:8443" }, { id = "x", address = "127.0.0.1:9001" } ] }
            secure { backends = [ { address = "127.0.0.1:8443" }, { id = "x", address = "127.0.0.1:9001" } ],
              tls { enabled = true } }
          }
          routes = [ { backend-group = plain } ]
        }
        """;
    String expected = " settings (expected: the same settings, or an id of its own in each group: id = \"...\")";
    assertThat(problems(text)).containsExactly(
        "t.conf: 6: meridian.backend-groups.secure.backends: backend '127.0.0.1:8443' is also in group 'plain',"
            + " which speaks to it with other protocol, tls or proxy-protocol" + expected,
        "t.conf: 6: meridian.backend-groups.secure.backends: backend 'x' is also in group 'also',"
            + " which speaks to it with other protocol, tls or proxy-protocol" + expected);
  }

  @Test
  void reportsManyProblemsAtOnce() {
    String text = """
        meridian {
          listeners = []
          backend-groups {
            app { strategy = random, backends = [] }
            web { backends = [ { address = "a:1", id = x }, { address = "b:1", id = x } ] }
          }
          routes = [ { host = "a.*", path-prefix = api, methods = ["G T"], backend-group = nope } ]
          server { transport = fibers, drain-timeout = 0s }
          upstream { write-buffer-low = 1MiB, write-buffer-high = 64KiB }
        }
        """;

    assertThat(problems(text)).containsExactlyInAnyOrder(
        "t.conf: 2: meridian.listeners: no listeners (expected: at least one, "
            + "e.g. listeners = [ { name = \"web\", address = \"0.0.0.0:8080\" } ])",
        "t.conf: 4: meridian.backend-groups.app.strategy: unknown strategy 'random' (expected: one of consistent-hash, least-request, peak-ewma, round-robin, weighted)",
        "t.conf: 4: meridian.backend-groups.app.backends: no backends (expected: at least one, "
            + "e.g. backends = [ { address = \"10.0.0.1:8080\" } ], [ { dns = \"app.internal:8080\" } ], "
            + "or backends-file = \"backends.json\")",
        "t.conf: 5: meridian.backend-groups.web.backends[1].id: backend id 'x' is also used by "
            + "meridian.backend-groups.web.backends[0].id (expected: unique ids in a group; the id defaults to the address)",
        "t.conf: 7: meridian.routes[0].host: 'a.*' is not a host pattern (expected: an exact name such as "
            + "api.example.com, or *.example.com; leave out host to match any)",
        "t.conf: 7: meridian.routes[0].path-prefix: 'api' does not start with / (expected: a path such as /api/)",
        "t.conf: 7: meridian.routes[0].methods: 'G T' is not a token (expected: names such as GET, POST)",
        "t.conf: 7: meridian.routes[0].backend-group: no backend group 'nope' (expected: one of app, web)",
        "t.conf: 8: meridian.server.transport: unknown transport 'fibers' (expected: one of auto, io_uring, epoll, nio)",
        "t.conf: 8: meridian.server.drain-timeout: \"0s\" is not positive (expected: a positive duration such as 2s or 500ms)",
        "t.conf: 9: meridian.upstream.write-buffer-low: 1048576 bytes is above write-buffer-high (65536 bytes) "
            + "(expected: write-buffer-low <= write-buffer-high)");
  }

  @Test
  void problemWithoutLineLeavesItOut() {
    assertThat(new ConfigProblem("my.conf", 0, "meridian.listeners", "no listeners (expected: one)"))
        .hasToString("my.conf: meridian.listeners: no listeners (expected: one)");
    assertThat(new ConfigProblem("my.conf", 3, "meridian.x", "bad (expected: good)"))
        .hasToString("my.conf: 3: meridian.x: bad (expected: good)");
  }

  /** A valid file whose line 2 is {@code extra}; listeners on line 3, backends on 4, routes on 5. */
  private static String minimal(String extra) {
    return "meridian {\n"
        + extra + "\n"
        + "listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "backend-groups { app { backends = [ { address = \"10.0.0.1:80\" } ] } }\n"
        + "routes = [ { backend-group = app } ]\n"
        + "}\n";
  }

  private static List<String> problems(String text) {
    try {
      SettingsLoader.parse(text, "t.conf");
    } catch (InvalidConfigException e) {
      return e.problems().stream().map(ConfigProblem::toString).toList();
    }
    throw new AssertionError("expected problems in:\n" + text);
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }
}
