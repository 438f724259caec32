package dev.meridian.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration of Kubernetes backend entries and meridian.discovery.kubernetes. */
class KubernetesConfigTest {
  @TempDir Path dir;

  private static String config(String entry, String extra) {
    return """
        meridian {
          region = "eu-west"
          listeners = [ { address = "127.0.0.1:0" } ]
          backend-groups { app {
            backends = [
              %s
            ]
          } }
          routes = [ { backend-group = app } ]
          %s
        }
        """.formatted(entry, extra);
  }

  private static String problems(String entry, String extra) {
    try {
      SettingsLoader.parse(config(entry, extra), "t.conf");
      throw new AssertionError("accepted");
    } catch (InvalidConfigException e) {
      return e.getMessage();
    }
  }

  @Test
  void anEntryBecomesASourceWithItsFieldsAndTheZoneMap() throws Exception {
    MeridianSettings s = SettingsLoader.parse(config("""
        { kubernetes { namespace = "shop", service = "app", port = "http" }, weight = 2 }
        { kubernetes { service = "api", port = 8443 }, region = "us-east" }""",
        "discovery.kubernetes { zones { \"eu-west-1a\" = \"eu-west\", \"us-east-1b\" = \"us-east\" } }"), "t.conf");

    Map<String, String> zones = Map.of("eu-west-1a", "eu-west", "us-east-1b", "us-east");
    assertThat(s.backendGroups().get("app").sources()).containsExactly(
        new BackendSourceSettings.Kubernetes("meridian.backend-groups.app.backends[0].kubernetes", "shop", "app",
            "http", 0, zones, "", "eu-west", 2),
        new BackendSourceSettings.Kubernetes("meridian.backend-groups.app.backends[1].kubernetes", "", "api",
            "", 8443, zones, "us-east", "eu-west", 1));
    assertThat(s.discovery().kubernetes()).isEqualTo(new DiscoverySettings.Kubernetes("", Optional.empty(),
        Duration.ofSeconds(2), zones));
    assertThat(SettingsLoader.knownRegions(s.region(), s.backendGroups())).containsExactly("eu-west", "us-east");
  }

  @Test
  void aFailoverMayNameTheRegionsOfTheZoneMap() throws Exception {
    MeridianSettings s = SettingsLoader.parse("""
        meridian {
          listeners = [ { address = "127.0.0.1:0" } ]
          discovery.kubernetes.zones { "ap-1a" = "ap" }
          backend-groups { app {
            backends = [ { kubernetes { service = "app", port = "http" } } ]
            regions.failover { default = [ "default", "ap" ] }
          } }
          routes = [ { backend-group = app } ]
        }
        """, "t.conf");
    assertThat(s.backendGroups().get("app").regions().failover()).containsKey("default");
  }

  @Test
  void theClientKeysAreRead() throws Exception {
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), "apiVersion: v1\nkind: Config\n");
    Path conf = Files.writeString(dir.resolve("meridian.conf"), config(
        "{ kubernetes { service = \"app\", port = \"http\" } }",
        "discovery.kubernetes { master-url = \"https://127.0.0.1:6443\", kubeconfig = \"kubeconfig\", watch-check = 5s }"));

    assertThat(SettingsLoader.load(conf).discovery().kubernetes()).isEqualTo(new DiscoverySettings.Kubernetes(
        "https://127.0.0.1:6443", Optional.of(kubeconfig), Duration.ofSeconds(5), Map.of()));
  }

  @Test
  void aDiscoverySectionThatIsNotAnObjectIsReportedOnce() {
    String p = problems("{ kubernetes { service = \"app\", port = \"http\" } }", "discovery = 5");
    assertThat(p.lines().filter(l -> l.contains("meridian.discovery:"))).hasSize(1);
  }

  @Test
  void badEntriesAreRefusedWithFileLineAndKey() {
    String p = problems("""
        { kubernetes { namespace = "Shop", service = "app_1", port = "HTTP" } }
        { kubernetes { service = "app", port = 70000 }, zone = "a", id = "x" }
        { kubernetes { port = "http", servce = "app" } }
        { kubernetes = "app:http" }
        { kubernetes { service = "app", port = "http" }, dns = "app.internal:80" }""",
        "discovery.kubernetes { master-url = \"ftp://x\", kubeconfig = \"missing.yaml\", zones { a = 1, b = { c = d } } }");

    assertThat(p)
        .contains("t.conf: 6: meridian.backend-groups.app.backends[0].kubernetes.namespace: 'Shop' is not a namespace name")
        .contains("t.conf: 6: meridian.backend-groups.app.backends[0].kubernetes.service: 'app_1' is not a Service name")
        .contains("t.conf: 6: meridian.backend-groups.app.backends[0].kubernetes.port: 'HTTP' is not a port name")
        .contains("t.conf: 7: meridian.backend-groups.app.backends[1].kubernetes.port: 70000 is not a port number")
        .contains("t.conf: 7: meridian.backend-groups.app.backends[1].zone: a kubernetes entry's zones come from")
        .contains("t.conf: 7: meridian.backend-groups.app.backends[1].id: a kubernetes entry yields one backend")
        .contains("t.conf: 8: meridian.backend-groups.app.backends[2].kubernetes.service: ")
        .contains("t.conf: 8: meridian.backend-groups.app.backends[2].kubernetes.servce: unknown key")
        .contains("t.conf: 9: meridian.backend-groups.app.backends[3].kubernetes: ")
        .contains("t.conf: 10: meridian.backend-groups.app.backends[4].kubernetes: both dns and kubernetes given")
        .contains("t.conf: 14: meridian.discovery.kubernetes.master-url: 'ftp://x' is not an API server URL")
        .contains("t.conf: 14: meridian.discovery.kubernetes.kubeconfig: cannot read")
        .contains("t.conf: 14: meridian.discovery.kubernetes.zones.b: {\"c\":\"d\"} is not a string");
  }
}
