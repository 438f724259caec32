package dev.meridian.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RegionalBackends;
import dev.meridian.proxy.testing.TestBackend.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the monitoring files under {@code docker/}: the Grafana dashboard and the Prometheus rules and
 * scrape configuration parse and are complete, and every metric they query is one a running Meridian
 * exposes at its admin listener's {@code /metrics}, so a renamed meter fails here rather than leaving
 * an empty panel or an alert that can never fire.
 */
class MonitoringFilesTest {
  /** The test runs in {@code proxy-core}; the files are in the project root's {@code docker/}. */
  private static final Path DOCKER = Path.of("..", "docker");
  private static final Path DASHBOARD = DOCKER.resolve("grafana/meridian-dashboard.json");
  private static final Path ALERTS = DOCKER.resolve("prometheus/meridian-alerts.yml");
  private static final Path PROMETHEUS = DOCKER.resolve("prometheus/prometheus.yml");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  /** A metric name in PromQL; label names and values never start with these prefixes here. */
  private static final Pattern MERIDIAN_METRIC = Pattern.compile("\\bmeridian_[a-z0-9_]+");
  private static final Pattern RUNTIME_METRIC = Pattern.compile("\\b(?:jvm|process|netty)_[a-z0-9_]+");
  /** The series suffixes of a histogram (or summary) family. */
  private static final Pattern SERIES_SUFFIX = Pattern.compile("_(?:bucket|sum|count)$");
  private static final Pattern RANGE = Pattern.compile("\\[([^\\]]*)\\]");

  @TempDir
  static Path dir;

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private static RegionalBackends backends;
  private static MeridianInstance meridian;
  /** Family names from the running instance's {@code # TYPE} lines. */
  private static Set<String> exposed;

  /**
   * Starts Meridian with group {@code app} in three regions, ap-south's backend not listening, a cached
   * route {@code static} and a route {@code api}, then sends requests so that the per-route, per-backend
   * and retry meters exist: a request from ap-south fails to connect there and is retried elsewhere.
   */
  @BeforeAll
  static void startMeridianAndSendTraffic() throws Exception {
    backends = RegionalBackends.start(List.of("us-east", "eu-west", "ap-south"), region -> request -> Reply.ok(region));
    backends.get("ap-south").close();
    dev.meridian.tls.CertificatePair cert = dev.meridian.tls.SelfSignedCertificates.generate(dir.resolve("tls"));
    String hocon = "meridian {\n"
        + "  listeners = [ { name = \"web\", address = \"127.0.0.1:0\" }\n"
        + "    { name = \"tls\", address = \"127.0.0.1:0\", tls { certificates = [ { cert = \"" + cert.cert()
        + "\", key = \"" + cert.key() + "\" } ] } } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
        + "  access-log { enabled = true, output = \"" + dir.resolve("access.log") + "\" }\n"
        + "  backend-groups { app { backends = [\n" + backends.hoconList() + "]\n"
        + "    regions { failover { ap-south = [ap-south, us-east, eu-west], default = [us-east, eu-west, ap-south] } }\n"
        + "  } }\n"
        + "  routes = [\n"
        + "    { name = \"static\", path-prefix = \"/static/\", backend-group = \"app\", cache { ttl = 60s } }\n"
        + "    { name = \"api\", path-prefix = \"/\", backend-group = \"app\" }\n"
        + "  ]\n"
        + "}\n";
    meridian = new MeridianInstance(SettingsLoader.parse(hocon, "monitoring-files-test")).start();

    for (int i = 0; i < 3; i++) {
      assertThat(get("/static/logo.png", "us-east").statusCode()).isEqualTo(200);
      assertThat(get("/api/items", "ap-south").statusCode()).isEqualTo(200);
    }
    // Micrometer's GC timer appears with the first collection it observes.
    System.gc();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(families(scrape())).contains(
        "meridian_request_duration_seconds", "meridian_upstream_response_time_seconds",
        "meridian_cache_requests_total"));
    exposed = families(scrape());
  }

  @AfterAll
  static void stop() {
    if (meridian != null) {
      meridian.stop(Duration.ZERO);
    }
    if (backends != null) {
      backends.close();
    }
  }

  private static HttpResponse<String> get(String path, String clientRegion) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(
            "http://127.0.0.1:" + meridian.listenerAddresses().get(0).getPort() + path))
        .header("X-Client-Region", clientRegion).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String scrape() throws Exception {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(
            "http://127.0.0.1:" + meridian.adminAddress().getPort() + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  /**
   * The family names of an exposition: {@code # TYPE x_total counter} for a counter,
   * {@code # TYPE x histogram} (series x_bucket, x_sum, x_count) for a histogram.
   */
  private static Set<String> families(String exposition) {
    Set<String> names = new TreeSet<>();
    for (String line : exposition.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        names.add(line.split(" ")[2]);
      }
    }
    return names;
  }

  private static JsonNode dashboard() throws Exception {
    return JSON.readTree(Files.readString(DASHBOARD));
  }

  private static JsonNode alerts() throws Exception {
    return YAML.readTree(Files.readString(ALERTS));
  }

  /** Every panel, including those inside collapsed rows. */
  private static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> panels = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      panels.add(panel);
      panel.path("panels").forEach(panels::add);
    }
    return panels;
  }

  /** Every PromQL expression of the files, by where it is (panel, variable or alert). */
  private static Map<String, String> expressions() throws Exception {
    Map<String, String> exprs = new TreeMap<>();
    for (JsonNode panel : panels(dashboard())) {
      for (JsonNode target : panel.path("targets")) {
        exprs.put("dashboard panel " + panel.path("id") + " (" + panel.path("title").asText() + ") "
            + target.path("refId").asText(), target.path("expr").asText());
      }
    }
    for (JsonNode variable : dashboard().path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        exprs.put("dashboard variable " + variable.path("name").asText(),
            variable.path("query").path("query").asText());
      }
    }
    for (JsonNode group : alerts().path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        exprs.put("alert " + rule.path("alert").asText(), rule.path("expr").asText());
      }
    }
    return exprs;
  }

  /** The metric families the expressions use (series suffixes stripped), each with where it is used. */
  private static Map<String, Set<String>> usedFamilies(Pattern metric) throws Exception {
    Map<String, Set<String>> used = new TreeMap<>();
    expressions().forEach((where, expr) -> {
      Matcher m = metric.matcher(expr);
      while (m.find()) {
        used.computeIfAbsent(SERIES_SUFFIX.matcher(m.group()).replaceFirst(""), k -> new TreeSet<>()).add(where);
      }
    });
    return used;
  }

  private static void assertExposed(Map<String, Set<String>> used) {
    Map<String, Set<String>> missing = new TreeMap<>(used);
    missing.keySet().removeAll(exposed);
    assertThat(missing).as("metrics the monitoring files use that Meridian's /metrics does not expose"
        + " (name -> where used); exposed: " + exposed).isEmpty();
  }

  @Test
  void dashboardPanelsAreCompleteWithUniqueIds() throws Exception {
    JsonNode dashboard = dashboard();
    assertThat(dashboard.path("schemaVersion").asInt()).isEqualTo(39);
    Map<String, JsonNode> variables = new TreeMap<>();
    dashboard.path("templating").path("list").forEach(v -> variables.put(v.path("name").asText(), v));
    assertThat(variables).containsKeys("datasource", "instance", "group", "route");
    assertThat(variables.get("datasource").path("type").asText()).isEqualTo("datasource");
    assertThat(variables.get("datasource").path("query").asText()).isEqualTo("prometheus");
    for (String name : List.of("instance", "group", "route")) {
      assertThat(variables.get(name).path("query").path("query").asText()).as(name).startsWith("label_values(");
    }

    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : panels(dashboard)) {
      String title = panel.path("title").asText();
      assertThat(ids.add(panel.path("id").asInt())).as("panel id %s (%s) is unique", panel.path("id"), title).isTrue();
      JsonNode grid = panel.path("gridPos");
      for (String key : List.of("h", "w", "x", "y")) {
        assertThat(grid.path(key).isInt()).as("%s gridPos.%s", title, key).isTrue();
      }
      assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as("%s fits 24 columns", title).isLessThanOrEqualTo(24);
      if (panel.path("type").asText().equals("row")) {
        continue;
      }
      assertThat(panel.path("datasource").path("uid").asText()).as("%s datasource", title).isEqualTo("${datasource}");
      assertThat(panel.path("targets").size()).as("%s targets", title).isPositive();
      for (JsonNode target : panel.path("targets")) {
        String expr = target.path("expr").asText();
        assertThat(expr).as("%s expr", title).isNotBlank();
        Matcher range = RANGE.matcher(expr);
        while (range.find()) {
          assertThat(range.group(1)).as("%s range in %s", title, expr).isEqualTo("$__rate_interval");
        }
      }
    }
  }

  @Test
  void everyAlertRuleIsComplete() throws Exception {
    Set<String> names = new TreeSet<>();
    JsonNode groups = alerts().path("groups");
    assertThat(groups.size()).isPositive();
    for (JsonNode group : groups) {
      assertThat(group.path("name").asText()).isNotBlank();
      for (JsonNode rule : group.path("rules")) {
        String alert = rule.path("alert").asText();
        assertThat(alert).isNotBlank();
        assertThat(names.add(alert)).as("%s is unique", alert).isTrue();
        assertThat(rule.path("expr").asText()).as("%s expr", alert).isNotBlank();
        assertThat(rule.path("for").asText()).as("%s for", alert).matches("\\d+[smh]");
        assertThat(rule.path("labels").path("severity").asText()).as("%s severity", alert).isIn("critical", "warning");
        assertThat(rule.path("annotations").path("summary").asText()).as("%s summary", alert).isNotBlank();
        assertThat(rule.path("annotations").path("description").asText()).as("%s description", alert).isNotBlank();
      }
    }
    assertThat(names).contains("MeridianRegionDown", "MeridianRegionPanic", "MeridianRetryBudgetExhausted",
        "MeridianHigh5xx", "MeridianAccessLogDropping", "MeridianBackendEjected");
  }

  @Test
  void prometheusScrapesTheAdminListenerAndLoadsTheRules() throws Exception {
    JsonNode config = YAML.readTree(Files.readString(PROMETHEUS));
    List<String> ruleFiles = new ArrayList<>();
    config.path("rule_files").forEach(f -> ruleFiles.add(f.asText()));
    assertThat(ruleFiles).contains(ALERTS.getFileName().toString());
    JsonNode job = null;
    for (JsonNode scrape : config.path("scrape_configs")) {
      if (scrape.path("job_name").asText().equals("meridian")) {
        job = scrape;
      }
    }
    assertThat(job).as("scrape job meridian").isNotNull();
    assertThat(job.path("metrics_path").asText("/metrics")).isEqualTo("/metrics");
    assertThat(job.path("static_configs").path(0).path("targets").path(0).asText()).isEqualTo("meridian:9901");
  }

  @Test
  void everyMeridianMetricTheFilesUseIsExposed() throws Exception {
    Map<String, Set<String>> used = usedFamilies(MERIDIAN_METRIC);
    assertThat(used).containsKeys("meridian_requests_total", "meridian_backend_available");
    assertExposed(used);
  }

  @Test
  void everyJvmProcessAndNettyMetricTheFilesUseIsExposed() throws Exception {
    Map<String, Set<String>> used = usedFamilies(RUNTIME_METRIC);
    assertThat(used).containsKeys("jvm_memory_used_bytes", "netty_allocator_memory_used_bytes");
    assertExposed(used);
  }
}
