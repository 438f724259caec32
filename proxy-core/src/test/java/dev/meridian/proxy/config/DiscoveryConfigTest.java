package dev.meridian.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration of discovered backends: dns, srv and backends-file entries, and meridian.discovery. */
class DiscoveryConfigTest {
  @TempDir Path dir;

  private static String config(String group, String extra) {
    return """
        meridian {
          listeners = [ { address = "127.0.0.1:0" } ]
          backend-groups { app { %s } }
          routes = [ { backend-group = app } ]
          %s
        }
        """.formatted(group, extra);
  }

  private static String problems(String group, String extra) {
    try {
      SettingsLoader.parse(config(group, extra), "t.conf");
      throw new AssertionError("accepted");
    } catch (InvalidConfigException e) {
      return e.getMessage();
    }
  }

  @Test
  void dnsAndSrvEntriesBecomeSourcesWithTheirFields() throws Exception {
    MeridianSettings s = SettingsLoader.parse(config("""
        backends = [
          { address = "127.0.0.1:9000" }
          { dns = "app.internal:8080", region = "eu", zone = "eu-1a", weight = 3 }
          { srv = "_http._tcp.app.internal", region = "us" }
        ]""", "discovery.dns { servers = [ \"127.0.0.1:5353\", \"10.0.0.2\" ], min-ttl = 2s, max-ttl = 60s }"), "t.conf");

    var group = s.backendGroups().get("app");
    assertThat(group.backends()).extracting(BackendSettings::id).containsExactly("127.0.0.1:9000");
    assertThat(group.sources()).containsExactly(
        new BackendSourceSettings.Dns("meridian.backend-groups.app.backends[1].dns", "app.internal", 8080, "eu",
            "eu-1a", 3),
        new BackendSourceSettings.Srv("meridian.backend-groups.app.backends[2].srv", "_http._tcp.app.internal",
            "us", ""));
    assertThat(s.discovery()).isEqualTo(new DiscoverySettings(
        List.of(new HostPort("127.0.0.1", 5353), new HostPort("10.0.0.2", 53)), Duration.ofSeconds(2),
        Duration.ofSeconds(60), Duration.ofSeconds(2), Duration.ofSeconds(2), DiscoverySettings.Kubernetes.DEFAULTS));
  }

  @Test
  void theDefaultsAreThoseDocumented() throws Exception {
    MeridianSettings s = SettingsLoader.parse(config("backends = [ { address = \"127.0.0.1:9000\" } ]", ""), "t.conf");

    assertThat(s.discovery()).isEqualTo(DiscoverySettings.DEFAULTS);
    assertThat(s.backendGroups().get("app").sources()).isEmpty();
  }

  @Test
  void badEntriesAreRefusedWithLineAndKey() {
    String message = problems("""
        backends = [
          { dns = "10.0.0.1:8080" }
          { address = "10.0.0.1:8080", dns = "app.internal:8080" }
          { srv = "app.internal" }
          { srv = "_http._tcp.app.internal", weight = 2, id = "x" }
          { dns = "app.internal" }
          { region = "eu" }
        ]""", "discovery.dns { min-ttl = 10s, max-ttl = 1s, servers = [ \"a:b:c\" ] }");

    assertThat(message)
        .contains("t.conf: 4: meridian.backend-groups.app.backends[0].dns: '10.0.0.1:8080' is an address, not a name")
        .contains("t.conf: 5: meridian.backend-groups.app.backends[1].dns: both address and dns given")
        .contains("t.conf: 6: meridian.backend-groups.app.backends[2].srv: 'app.internal' is not an SRV name")
        .contains("t.conf: 7: meridian.backend-groups.app.backends[3].weight: an srv entry's weights come from")
        .contains("t.conf: 7: meridian.backend-groups.app.backends[3].id: a srv entry yields one backend per address")
        .contains("t.conf: 8: meridian.backend-groups.app.backends[4].dns:")
        .contains("t.conf: 9: meridian.backend-groups.app.backends[5].address: missing (expected: exactly one of")
        .contains("meridian.discovery.dns.min-ttl: 10s is above max-ttl")
        .contains("meridian.discovery.dns.servers:");
  }

  @Test
  void aMisspeltDiscoveryKeyIsRefused() {
    assertThat(problems("backends = [ { dns = \"app.internal:80\" } ]",
        "discovery { dns.server = [ \"127.0.0.1:53\" ], file.intervall = 1s }"))
        .contains("meridian.discovery.dns.server: unknown key")
        .contains("meridian.discovery.file.intervall: unknown key");
  }

  @Test
  void aBackendsFileIsReadWithTheConfigurationAndItsProblemsNameItsLines() throws Exception {
    Path file = dir.resolve("backends.json");
    Files.writeString(file, """
        { "backends": [
          { "address": "127.0.0.1:9001", "region": "eu" },
          { "address": "127.0.0.1:9002", "weight": 0 },
          { "address": "127.0.0.1:9001", "colour": "red" }
        ] }
        """);
    Path conf = dir.resolve("meridian.conf");
    Files.writeString(conf, config("backends-file = \"backends.json\"", ""));

    assertThatThrownBy(() -> SettingsLoader.load(conf)).isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining(file + ": 3: backends[1].weight:")
        .hasMessageContaining(file + ": 4: backends[2].colour: unknown key")
        .hasMessageContaining(file + ": 4: backends[2].address: backend id '127.0.0.1:9001' is also used by");

    Files.writeString(file, """
        { "backends": [ { "address": "127.0.0.1:9001", "region": "eu" }, { "address": "127.0.0.1:9002" } ] }
        """);
    MeridianSettings s = SettingsLoader.load(conf);
    assertThat(s.backendGroups().get("app").sources()).containsExactly(new BackendSourceSettings.File(
        "meridian.backend-groups.app.backends-file", file.toAbsolutePath(), "default"));
    assertThat(BackendFile.load(file, "us")).extracting(BackendSettings::region).containsExactly("eu", "us");
  }

  @Test
  void bytesReadFromABackendsFileAreCheckedAsTheFileWouldBe() throws Exception {
    Path file = dir.resolve("backends.json");
    // What the file holds now (half of a rewrite) is not what the poller read a moment before.
    Files.writeString(file, "{ \"backends\": [");
    byte[] read = """
        { "backends": [
          { "address": "127.0.0.1:9001", "region": "eu" },
          { "address": "127.0.0.1:9002", "weight": -1 } ] }
        """.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThatThrownBy(() -> BackendFile.load(file, read, "us")).isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining(file + ": 3: backends[1].weight:")
        .hasMessageNotContaining("syntax error");

    byte[] good = "{ \"backends\": [ { \"address\": \"127.0.0.1:9001\" } ] }".getBytes(
        java.nio.charset.StandardCharsets.UTF_8);
    assertThat(BackendFile.load(file, good, "us")).extracting(BackendSettings::region).containsExactly("us");
    assertThatThrownBy(() -> BackendFile.load(file, "us")).as("the file itself is cut short")
        .hasMessageContaining(file + ": ").hasMessageContaining("syntax error");
  }

  @Test
  void aMissingBackendsFileIsRefused() throws Exception {
    Path conf = dir.resolve("meridian.conf");
    Files.writeString(conf, config("backends-file = \"nowhere.json\"", ""));

    assertThatThrownBy(() -> SettingsLoader.load(conf)).hasMessageContaining("cannot read")
        .hasMessageContaining("nowhere.json")
        .as("named where the configuration names it: its file, line and key")
        .hasMessageContaining(conf + ": ").hasMessageContaining("meridian.backend-groups.app.backends-file: cannot read");
  }
}
