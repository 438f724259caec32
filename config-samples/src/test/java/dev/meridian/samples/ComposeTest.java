package dev.meridian.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks {@code docker/compose.yaml} and the files it mounts, without Docker: three regions, each a
 * Meridian whose configuration passes {@code meridian check} and two app containers; each Meridian
 * prefers its own region's apps and can fail over to every other app; the netem sidecars delay the
 * other regions' subnets; Prometheus scrapes every Meridian's admin port; Grafana gets the dashboard.
 */
class ComposeTest {
  private static final Path COMPOSE = DeployFiles.DOCKER.resolve("compose.yaml");
  private static final String CONFIG_IN_CONTAINER = "/etc/meridian/meridian.conf";
  private static final Pattern LISTEN = Pattern.compile("-listen=:(\\d+)");

  private static Map<String, Object> services;
  /** Meridian service name to the settings of the config it mounts, as {@code meridian check} read them. */
  private static final Map<String, MeridianSettings> MERIDIANS = new TreeMap<>();

  @BeforeAll
  static void readCompose() throws Exception {
    services = DeployFiles.map(DeployFiles.yaml(COMPOSE).get("services"), "services");
    for (String name : services.keySet()) {
      if (name.startsWith("meridian-")) {
        MERIDIANS.put(name, DeployFiles.check(mountedConfig(name)));
      }
    }
  }

  static Stream<Path> regionConfigs() throws IOException {
    try (Stream<Path> files = Files.list(DeployFiles.DOCKER.resolve("compose"))) {
      return files.filter(p -> p.getFileName().toString().matches("meridian-.*\\.conf")).sorted().toList().stream();
    }
  }

  @ParameterizedTest
  @MethodSource("regionConfigs")
  void everyRegionConfigPassesCheck(Path config) throws Exception {
    MeridianSettings settings = DeployFiles.check(config);

    assertThat(config.getFileName().toString()).isEqualTo("meridian-" + settings.region().orElseThrow() + ".conf");
  }

  @Test
  void threeRegionsEachWithAMeridianAndTwoApps() {
    assertThat(MERIDIANS).hasSize(3);
    assertThat(MERIDIANS.values().stream().map(s -> s.region().orElseThrow()))
        .containsExactlyInAnyOrder("eu-west", "us-east", "ap-south");
    assertThat(services.keySet().stream().filter(n -> n.startsWith("app-"))).hasSize(6);
    MERIDIANS.forEach((service, settings) -> assertThat(service(service).get("image"))
        .as(service + " image").isEqualTo(service("meridian-eu").get("image")));
  }

  @Test
  void eachMeridianPrefersItsRegionAndReachesEveryApp() {
    MERIDIANS.forEach((service, settings) -> {
      String region = settings.region().orElseThrow();
      assertThat(settings.backendGroups()).as(service).hasSize(1);
      MeridianSettings.BackendGroupSettings group = settings.backendGroups().values().iterator().next();
      List<String> order = group.regions().failover().get("default");
      assertThat(order).as(service + " failover order").hasSize(3).first().isEqualTo(region);

      Set<String> apps = new TreeSet<>();
      for (BackendSettings backend : group.backends()) {
        Map<String, Object> app = service(backend.address().host());
        assertThat(listenPort(app)).as(backend.id() + " port").isEqualTo(backend.address().port());
        assertThat(String.valueOf(app.get("command"))).as(backend.id() + " text names its region").contains(backend.region());
        apps.add(backend.address().host());
      }
      assertThat(apps).as(service + " backends").containsExactlyInAnyOrderElementsOf(
          services.keySet().stream().filter(n -> n.startsWith("app-")).toList());
      assertThat(group.backends().stream().filter(b -> b.region().equals(region))).as(service + " local apps").hasSize(2);
      assertThat(group.health().active()).as(service + " active health checks").isPresent();
    });
  }

  @Test
  void publishedPortsReachTheListenerAndTheAdmin() {
    MERIDIANS.forEach((service, settings) -> {
      Set<String> containerPorts = DeployFiles.list(service(service).get("ports"), service + " ports").stream()
          .map(p -> String.valueOf(p).replaceAll(".*:", "")).collect(Collectors.toSet());
      assertThat(settings.listeners().get(0).address().host()).isEqualTo("0.0.0.0");
      assertThat(settings.admin().address().host()).isEqualTo("0.0.0.0");
      assertThat(containerPorts).containsExactlyInAnyOrder(
          String.valueOf(settings.listeners().get(0).address().port()), String.valueOf(settings.admin().address().port()));
    });
  }

  @Test
  void netemDelaysTheOtherRegionsSubnets() {
    MERIDIANS.forEach((service, settings) -> {
      String region = service.substring("meridian-".length());
      Map<String, Object> netem = service("netem-" + region);
      assertThat(netem.get("network_mode")).isEqualTo("service:" + service);
      assertThat(DeployFiles.list(netem.get("cap_add"), "cap_add")).containsExactly("NET_ADMIN");

      Set<String> delayed = DeployFiles.list(netem.get("command"), "netem command").stream()
          .map(rule -> String.valueOf(rule).replaceAll("=.*", "")).collect(Collectors.toSet());
      Set<String> others = new TreeSet<>();
      for (String other : MERIDIANS.keySet()) {
        if (!other.equals(service)) {
          others.add(subnet(other));
          others.add(subnet("app-" + other.substring("meridian-".length()) + "-1"));
        }
      }
      assertThat(delayed).as(service + " delayed subnets").containsExactlyInAnyOrderElementsOf(others)
          .doesNotContain(subnet(service));
    });
  }

  @Test
  void prometheusScrapesEveryMeridiansAdminPort() throws Exception {
    Path config = mounted("prometheus", "/etc/prometheus/prometheus.yml");
    Map<String, Object> prometheus = DeployFiles.yaml(config);
    List<Object> jobs = DeployFiles.list(prometheus.get("scrape_configs"), "scrape_configs");
    Map<String, Object> job = DeployFiles.map(jobs.get(0), "scrape job");

    List<String> targets = new ArrayList<>();
    for (Object staticConfig : DeployFiles.list(job.get("static_configs"), "static_configs")) {
      DeployFiles.list(DeployFiles.map(staticConfig, "static_config").get("targets"), "targets")
          .forEach(t -> targets.add(String.valueOf(t)));
    }
    assertThat(jobs).hasSize(1);
    assertThat(job.get("job_name")).as("the job MeridianScrapeFailing watches").isEqualTo("meridian");
    assertThat(job.get("metrics_path")).isEqualTo("/metrics");
    assertThat(targets).containsExactlyInAnyOrderElementsOf(MERIDIANS.entrySet().stream()
        .map(e -> e.getKey() + ":" + e.getValue().admin().address().port()).toList());
    for (Object rules : DeployFiles.list(prometheus.get("rule_files"), "rule_files")) {
      assertThat(mounted("prometheus", "/etc/prometheus/" + rules)).as("rule file " + rules).isRegularFile();
    }
  }

  @Test
  void grafanaIsProvisionedWithTheDashboardAndPrometheus() throws Exception {
    Map<String, Object> providers = DeployFiles.yaml(
        mounted("grafana", "/etc/grafana/provisioning/dashboards/meridian.yml"));
    Map<String, Object> provider = DeployFiles.map(DeployFiles.list(providers.get("providers"), "providers").get(0), "provider");
    String dashboards = String.valueOf(DeployFiles.map(provider.get("options"), "options").get("path"));
    Path dashboard = mounted("grafana", dashboards + "/meridian-dashboard.json");
    assertThat(dashboard).isEqualTo(DeployFiles.DOCKER.resolve("grafana/meridian-dashboard.json"));

    Map<String, Object> sources = DeployFiles.yaml(
        mounted("grafana", "/etc/grafana/provisioning/datasources/meridian.yml"));
    Map<String, Object> source = DeployFiles.map(DeployFiles.list(sources.get("datasources"), "datasources").get(0), "datasource");
    assertThat(source.get("type")).isEqualTo("prometheus");
    assertThat(source.get("isDefault")).isEqualTo(true);
    String published = DeployFiles.list(service("prometheus").get("ports"), "prometheus ports").get(0).toString();
    assertThat(source.get("url")).isEqualTo("http://prometheus:" + published.replaceAll(".*:", ""));
  }

  @Test
  void everyMountedFileExists() {
    services.forEach((name, service) -> {
      Object volumes = DeployFiles.map(service, name).get("volumes");
      if (volumes != null) {
        for (Object volume : DeployFiles.list(volumes, name + " volumes")) {
          String source = String.valueOf(volume).split(":")[0];
          assertThat(DeployFiles.DOCKER.resolve(source).normalize()).as(name + " mounts " + source).isRegularFile();
        }
      }
    });
  }

  private static Map<String, Object> service(String name) {
    return DeployFiles.map(services.get(name), "service " + name);
  }

  /** The file on this side of a bind mount of {@code service} at {@code target}. */
  private static Path mounted(String service, String target) {
    for (Object volume : DeployFiles.list(service(service).get("volumes"), service + " volumes")) {
      String[] parts = String.valueOf(volume).split(":");
      if (parts[1].equals(target)) {
        return DeployFiles.DOCKER.resolve(parts[0]).normalize();
      }
    }
    throw new AssertionError(service + " mounts nothing at " + target);
  }

  private static Path mountedConfig(String meridian) {
    return mounted(meridian, CONFIG_IN_CONTAINER);
  }

  private static int listenPort(Map<String, Object> app) {
    Matcher listen = LISTEN.matcher(String.valueOf(app.get("command")));
    assertThat(listen.find()).as("-listen in " + app.get("command")).isTrue();
    return Integer.parseInt(listen.group(1));
  }

  /** The /24 of a service's fixed address on the regions network. */
  private static String subnet(String name) {
    Map<String, Object> networks = DeployFiles.map(service(name).get("networks"), name + " networks");
    String address = String.valueOf(DeployFiles.map(networks.get("regions"), name + " regions network").get("ipv4_address"));
    return address.substring(0, address.lastIndexOf('.')) + ".0/24";
  }
}
