package dev.meridian.proxy.drill;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.cli.MeridianCli;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.RegionalBackends;
import dev.meridian.proxy.testing.TestBackend.Reply;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meridian drill} against an in-test Meridian with three regional backends on 127.0.0.1,
 * judged by its JSON report and exit status.
 */
class DrillTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private RegionalBackends backends;
  private MeridianInstance proxy;

  @TempDir
  Path out;

  @BeforeEach
  void start() throws Exception {
    backends = RegionalBackends.start(List.of("eu-west", "us-east", "ap-south"),
        region -> request -> Reply.ok(region).delay(Duration.ofMillis(2)));
    String hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\" }\n"
        + "  debug-headers = true\n"
        + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
        + "  backend-groups { app { strategy = \"round-robin\", backends = [\n" + backends.hoconList() + "]\n"
        + "    regions { failover { eu-west = [eu-west, us-east, ap-south], default = [us-east, eu-west, ap-south] } } } }\n"
        + "  routes = [ { name = \"all\", backend-group = \"app\" } ]\n"
        + "}\n";
    proxy = new MeridianInstance(SettingsLoader.parse(hocon, "drill-test")).start();
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    if (backends != null) {
      backends.close();
    }
  }

  private int drill(String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("drill",
        "--admin", "http://127.0.0.1:" + proxy.adminAddress().getPort(),
        "--group", "app", "--region", "eu-west",
        "--target", "http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/data",
        "--header", "X-Client-Region:eu-west", "--rate", "200", "--connections", "8",
        "--baseline", "1s", "--hold", "2s", "--recovery", "3s", "--warm-up", "2s"));
    args.addAll(List.of(extra));
    return MeridianCli.execute(args.toArray(new String[0]));
  }

  private JsonNode report(Path dir) throws Exception {
    return JSON.readTree(dir.resolve("drill-report.json").toFile());
  }

  @Test
  void dialToZeroShiftsTheRegionWithoutErrorsAndFailsBack() throws Exception {
    int exit = drill("--action", "dial=0", "--slo", "errors=0,shift=1s,failback=2s", "--out", out.toString());

    JsonNode report = report(out);
    assertThat(exit).as(report.toString()).isZero();
    assertThat(report.get("passed").asBoolean()).isTrue();
    assertThat(report.get("errors").asLong()).isZero();
    assertThat(report.get("requests").asLong()).isGreaterThan(500);
    assertThat(report.get("shift-ms").asLong()).isBetween(0L, 1000L);
    assertThat(report.get("failback-ms").isNull()).isFalse();
    JsonNode phases = report.get("phases");
    // Overwhelmingly eu-west, not all: the drill's JVM also runs the proxy and three backends, and
    // while its JIT is still cold eu-west's measured latency can rise so far above the idle
    // us-east's that the latency margin sends a few requests there, as it is meant to.
    assertThat(phases.at("/baseline/share-percent/eu-west").asDouble()).isGreaterThan(90);
    assertThat(phases.at("/during/share-percent/us-east").asDouble()).isGreaterThan(90);
    assertThat(phases.at("/during/p99-ms").asDouble()).isPositive();
    assertThat(report.get("timeline").size()).isGreaterThan(12);
    assertThat(Files.readString(out.resolve("drill-report.md"))).contains("shift (eu-west below 1%)");
    // The dial came back.
    assertThat(proxy.proxy().selectors().get("app").dials()).containsEntry("eu-west", 100);
    assertThat(proxy.proxy().operator().overrides().remainingMillis()).isEmpty();

    Path png = out.resolve("drill-timeline.png");
    assertThat(Files.size(png)).isGreaterThan(10_000);
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image.getWidth()).isEqualTo(1200);
    Set<Integer> colours = new HashSet<>();
    for (int x = 0; x < image.getWidth(); x += 3) {
      for (int y = 0; y < image.getHeight(); y += 3) {
        colours.add(image.getRGB(x, y));
      }
    }
    assertThat(colours.size()).as("distinct colours in the timeline").isGreaterThan(20);
  }

  /** An admin API with a token: the drill sends the one its --token-file holds, and without it is refused. */
  @Test
  void aDrillSendsTheAdminTokenFromItsFile(@TempDir Path dir) throws Exception {
    String token = "0123456789abcdef0123456789abcdef";
    Path tokenFile = Files.writeString(dir.resolve("admin.token"), token + "\n");
    proxy.stop(Duration.ZERO);
    proxy = new MeridianInstance(SettingsLoader.parse("meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  admin { address = \"127.0.0.1:0\", token-file = \"" + tokenFile + "\" }\n"
        + "  geo { client-region-header = \"X-Client-Region\", trusted-proxies = [\"127.0.0.1/32\"] }\n"
        + "  backend-groups { app { backends = [\n" + backends.hoconList() + "]\n"
        + "    regions { failover { eu-west = [eu-west, us-east, ap-south], default = [us-east, eu-west, ap-south] } } } }\n"
        + "  routes = [ { name = \"all\", backend-group = \"app\" } ]\n"
        + "}\n", "drill-token-test")).start();

    assertThat(drill("--action", "dial=0")).as("refused without the token").isEqualTo(2);
    int exit = drill("--action", "dial=0", "--token-file", tokenFile.toString(), "--out", out.toString());
    assertThat(exit).as(report(out).toString()).isZero();
    assertThat(report(out).get("requests").asLong()).isPositive();
    assertThat(proxy.proxy().selectors().get("app").dials()).containsEntry("eu-west", 100);
  }

  @Test
  void aBrokenSloIsNamedAndExitsOne() throws Exception {
    // A 300 ms delay on eu-west: no traffic moves (round robin has no latency steering), p99 breaks.
    int exit = drill("--action", "delay=300ms", "--slo", "errors=0,p99=100ms,shift=1s", "--out", out.toString());

    JsonNode report = report(out);
    assertThat(exit).isEqualTo(1);
    assertThat(report.get("passed").asBoolean()).isFalse();
    Map<String, Boolean> held = new LinkedHashMap<>();
    report.get("slo").forEach(v -> held.put(v.get("name").asText(), v.get("held").asBoolean()));
    assertThat(held).containsEntry("errors", true).containsEntry("p99", false).containsEntry("shift", false);
    assertThat(report.at("/phases/during/p99-ms").asDouble()).isGreaterThan(300);
    assertThat(report.at("/phases/baseline/p99-ms").asDouble()).isLessThan(300);
    assertThat(proxy.proxy().faults("app")).isEmpty();
  }

  @Test
  void aDrillDoesNotStartOverAChangeLeftInForceOrOnARegionWithoutTraffic() throws Exception {
    proxy.proxy().operator().setDial("app", "eu-west", 0, Duration.ofSeconds(30));
    assertThat(drill("--action", "dial=0")).isEqualTo(2);
    proxy.proxy().operator().setDial("app", "eu-west", 100);
    // ap-south gets none of these eu-west clients' requests: nothing to drill.
    assertThat(MeridianCli.execute("drill", "--admin", "http://127.0.0.1:" + proxy.adminAddress().getPort(),
        "--group", "app", "--region", "ap-south", "--hold", "1s", "--baseline", "1s", "--warm-up", "500ms",
        "--target", "http://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/data",
        "--header", "X-Client-Region:eu-west", "--rate", "100")).isEqualTo(2);
    assertThat(proxy.proxy().selectors().get("app").dials()).containsEntry("ap-south", 100);
  }

  @Test
  void badUseExitsTwoAndChangesNothing() {
    assertThat(drill("--action", "dial=150")).isEqualTo(2);
    assertThat(drill("--action", "explode")).isEqualTo(2);
    assertThat(drill("--slo", "latency=1s")).isEqualTo(2);
    assertThat(MeridianCli.execute("drill", "--admin", "http://127.0.0.1:" + proxy.adminAddress().getPort(),
        "--group", "app", "--region", "mars", "--hold", "1s")).isEqualTo(2);
    assertThat(MeridianCli.execute("drill", "--admin", "http://127.0.0.1:" + proxy.adminAddress().getPort(),
        "--group", "nope", "--region", "eu-west", "--hold", "1s")).isEqualTo(2);
    assertThat(MeridianCli.execute("drill", "--group", "app")).isEqualTo(2);
    assertThat(proxy.proxy().selectors().get("app").dials()).containsEntry("eu-west", 100);
  }
}
