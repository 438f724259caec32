package dev.meridian.bench.suite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchReportTest {
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private static final String RUN = """
      {"date":"2026-12-03T21:00:00+00:00","host":"Linux 6.1 x86_64","cpus":2,"jdk":"openjdk 17.0.13",
       "versions":{"nginx":"nginx/1.22.1 (OpenSSL 3.0.15)","haproxy":"haproxy 2.6.12 (OpenSSL 3.0.15)"},
       "settings":{"repeat":3,"quick":false},"notes":["first","second"]}
      """;

  /**
   * S1 (req/s, higher is better, with latency): nginx 10000/12000/11000, haproxy 9000/13000/12500,
   * meridian 14000/15000 and a third repetition that died. S7-h1 (KiB/conn, lower is better): nginx
   * 4.0/4.4/4.2, haproxy 20/22 and a failed one, meridian 8.0/8.4/8.2.
   */
  private static final String RESULTS = """
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"direct","rep":1,"metric":"req/s","value":30000,"better":"higher","latency_ms":{"50":0.5,"99":1.0},"errors":0,"proxy_cpu_pct":null,"status":"ok","note":""}
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"nginx","rep":1,"metric":"req/s","value":10000,"better":"higher","latency_ms":{"50":1.0,"99":2.0,"99.9":4.0,"100":9.0},"errors":0,"proxy_cpu_pct":90,"per_cpu_s":11000,"other_load_pct":1,"status":"ok","note":""}
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"haproxy","rep":1,"metric":"req/s","value":9000,"better":"higher","latency_ms":{"50":0.9,"99":2.0,"99.9":3.0},"errors":0,"proxy_cpu_pct":90,"per_cpu_s":10000,"other_load_pct":1,"status":"ok","note":""}
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"meridian","rep":1,"metric":"req/s","value":14000,"better":"higher","latency_ms":{"50":0.7,"99":1.0,"99.9":2.0},"errors":0,"proxy_cpu_pct":95,"per_cpu_s":15200,"other_load_pct":1.0,"status":"ok","note":""}
      {"scenario":"S7-h1","title":"idle connections, memory","target":"nginx","rep":1,"metric":"KiB/conn","value":4.0,"better":"lower","errors":0,"status":"ok","note":""}
      {"scenario":"S7-h1","title":"idle connections, memory","target":"haproxy","rep":1,"metric":"KiB/conn","value":20,"better":"lower","errors":0,"status":"ok","note":""}
      {"scenario":"S7-h1","title":"idle connections, memory","target":"meridian","rep":1,"metric":"KiB/conn","value":8.0,"better":"lower","errors":0,"status":"ok","note":""}
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"nginx","rep":2,"metric":"req/s","value":12000,"better":"higher","latency_ms":{"50":1.0,"99":3.0,"99.9":5.0,"100":9.0},"errors":0,"proxy_cpu_pct":92,"per_cpu_s":13000,"other_load_pct":1,"status":"ok","note":""}
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"haproxy","rep":2,"metric":"req/s","value":13000,"better":"higher","latency_ms":{"50":0.8,"99":2.2,"99.9":3.0},"errors":0,"proxy_cpu_pct":92,"per_cpu_s":14000,"other_load_pct":1,"status":"ok","note":""}
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"meridian","rep":2,"metric":"req/s","value":15000,"better":"higher","latency_ms":{"50":0.9,"99":1.2,"99.9":2.4},"errors":3,"proxy_cpu_pct":97,"per_cpu_s":15400,"other_load_pct":3.0,"status":"ok","note":""}
      {"scenario":"S7-h1","title":"idle connections, memory","target":"nginx","rep":2,"metric":"KiB/conn","value":4.4,"better":"lower","errors":0,"status":"ok","note":""}
      {"scenario":"S7-h1","title":"idle connections, memory","target":"haproxy","rep":2,"metric":"KiB/conn","value":22,"better":"lower","errors":0,"status":"ok","note":""}
      {"scenario":"S7-h1","title":"idle connections, memory","target":"meridian","rep":2,"metric":"KiB/conn","value":8.4,"better":"lower","errors":0,"status":"ok","note":""}
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"nginx","rep":3,"metric":"req/s","value":11000,"better":"higher","latency_ms":{"50":1.2,"99":2.5,"99.9":6.0,"100":9.0},"errors":0,"proxy_cpu_pct":94,"per_cpu_s":12000,"other_load_pct":1,"status":"ok","note":""}
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"haproxy","rep":3,"metric":"req/s","value":12500,"better":"higher","latency_ms":{"50":1.0,"99":2.4,"99.9":3.0},"errors":0,"proxy_cpu_pct":94,"per_cpu_s":13300,"other_load_pct":1,"status":"ok","note":""}
      {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"meridian","rep":3,"metric":"req/s","value":null,"better":"higher","proxy_cpu_pct":null,"status":"died","note":"exit 137"}
      {"scenario":"S7-h1","title":"idle connections, memory","target":"nginx","rep":3,"metric":"KiB/conn","value":4.2,"better":"lower","errors":0,"status":"ok","note":""}
      {"scenario":"S7-h1","title":"idle connections, memory","target":"haproxy","rep":3,"metric":"KiB/conn","value":null,"better":"lower","status":"failed","note":""}
      {"scenario":"S7-h1","title":"idle connections, memory","target":"meridian","rep":3,"metric":"KiB/conn","value":8.2,"better":"lower","errors":0,"status":"ok","note":""}
      """;

  @TempDir
  Path runDir;

  @Test
  void reportJsonHasTheMediansAndRatios() throws IOException {
    writeRun(RESULTS);
    BenchReport.write(runDir);

    JsonNode report = new ObjectMapper().readTree(runDir.resolve("report.json").toFile());
    assertThat(report.at("/run/versions/nginx").asText()).isEqualTo("nginx/1.22.1 (OpenSSL 3.0.15)");
    JsonNode s1 = report.at("/scenarios/0");
    assertThat(s1.get("scenario").asText()).isEqualTo("S1");
    assertThat(s1.get("better").asText()).isEqualTo("higher");
    assertThat(names(s1.get("targets"))).containsExactly("direct", "nginx", "haproxy", "meridian");
    JsonNode meridian = s1.at("/targets/meridian");
    assertThat(meridian.get("median").asDouble()).isEqualTo(14500.0);
    assertThat(meridian.get("reps").toString()).isEqualTo("[14000.0,15000.0,null]");
    assertThat(meridian.get("status").asText()).isEqualTo("died");
    assertThat(meridian.get("errors").asLong()).isEqualTo(3);
    assertThat(meridian.at("/latency_ms/99").asDouble()).isCloseTo(1.1, within(1e-9));
    assertThat(meridian.get("proxy_cpu_pct").asDouble()).isEqualTo(96.0);
    assertThat(s1.at("/targets/nginx/median").asDouble()).isEqualTo(11000.0);
    assertThat(s1.at("/targets/nginx/latency_ms/99").asDouble()).isEqualTo(2.5);
    assertThat(s1.at("/targets/direct/proxy_cpu_pct").isNull()).isTrue();
    JsonNode ratios = s1.get("ratios");
    assertThat(ratios.get("best_peer").asText()).isEqualTo("haproxy");
    assertThat(ratios.get("meridian/best").asDouble()).isCloseTo(14500.0 / 12500, within(1e-9));
    assertThat(ratios.get("meridian/nginx").asDouble()).isCloseTo(14500.0 / 11000, within(1e-9));
    assertThat(ratios.get("p99 meridian/best").asDouble()).isCloseTo(1.1 / 2.2, within(1e-9));
    assertThat(ratios.get("p99 meridian/nginx").asDouble()).isCloseTo(1.1 / 2.5, within(1e-9));
    assertThat(ratios.has("meridian/baseline")).isFalse();

    JsonNode s7 = report.at("/scenarios/1");
    assertThat(s7.get("scenario").asText()).isEqualTo("S7-h1");
    assertThat(s7.get("better").asText()).isEqualTo("lower");
    assertThat(s7.at("/targets/haproxy/median").asDouble()).isEqualTo(21.0);
    assertThat(s7.at("/targets/haproxy/status").asText()).isEqualTo("failed");
    assertThat(s7.at("/ratios/best_peer").asText()).isEqualTo("nginx");
    assertThat(s7.at("/ratios/meridian~1best").asDouble()).isCloseTo(8.2 / 4.2, within(1e-9));
    assertThat(s7.at("/ratios/meridian~1haproxy").asDouble()).isCloseTo(8.2 / 21, within(1e-9));
    assertThat(s7.at("/ratios/p99 meridian~1best").isNull()).isTrue();
  }

  @Test
  void markdownHasTheHeaderTablesRatiosAndSummary() throws IOException {
    writeRun(RESULTS);
    BenchReport.write(runDir);

    String md = Files.readString(runDir.resolve("report.md"));
    assertThat(md).startsWith("# Meridian benchmark\n")
        .contains("- host: Linux 6.1 x86_64\n", "- versions.haproxy: haproxy 2.6.12 (OpenSSL 3.0.15)\n",
            "- settings.repeat: 3\n", "- notes: first; second\n")
        .contains("## S1: small GET, keep-alive, wrk -c50\n")
        .contains("| target | req/s (median) | p50 ms | p99 ms | p99.9 ms | errors | proxy CPU % | req/s per CPU-s"
            + " | other load % | status | rep 1 | rep 2 | rep 3 |\n")
        .contains("| meridian | 14500 | 0.800 | 1.10 | 2.20 | 3 | 96.0 | 15300 | 2.0 | died | 14000 | 15000 | n/a (died) |\n")
        .contains("| direct | 30000 | 0.500 | 1.00 | n/a | 0 | n/a | n/a | n/a | ok | 30000 |  |  |\n")
        .contains("- meridian / nginx: x1.32 (higher is better); p99 x0.44 (lower is better)\n")
        .contains("- meridian / best peer (haproxy): x1.16 (higher is better); p99 x0.50 (lower is better)\n")
        .contains("Note (meridian): exit 137")
        .contains("## S7-h1: idle connections, memory\n")
        .contains("| nginx | 4.20 | 0 | n/a | n/a | n/a | ok | 4.00 | 4.40 | 4.20 |\n")
        .contains("| haproxy | 21.0 | 0 | n/a | n/a | n/a | failed | 20.0 | 22.0 | n/a (failed) |\n")
        .contains("- meridian / best peer (nginx): x1.95 (lower is better)\n")
        .contains("- meridian / haproxy: x0.39 (lower is better)\n")
        .contains("| S1 | small GET, keep-alive, wrk -c50 | req/s | higher is better | 14500 | haproxy | 12500 | x1.16 | x0.50 | n/a |\n")
        .contains("| S7-h1 | idle connections, memory | KiB/conn | lower is better | 8.20 | nginx | 4.20 | x1.95 | n/a | n/a |\n")
        .contains("](latency-S1.png)", "](ratios.png)")
        .doesNotContain("latency-S7-h1.png");
  }

  /** meridian-matched (headers matched to the peers') gets its own row and ratios, after meridian. */
  @Test
  void theMatchedVariantIsComparedWithThePeersBesideMeridian() throws IOException {
    writeRun(RESULTS + """
        {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"meridian-matched","rep":1,"metric":"req/s","value":16000,"better":"higher","latency_ms":{"50":0.6,"99":1.0},"errors":0,"status":"ok","note":""}
        {"scenario":"S1","title":"small GET, keep-alive, wrk -c50","target":"meridian-matched","rep":2,"metric":"req/s","value":15000,"better":"higher","latency_ms":{"50":0.6,"99":1.2},"errors":0,"status":"ok","note":""}
        """);
    BenchReport.write(runDir);

    JsonNode report = new ObjectMapper().readTree(runDir.resolve("report.json").toFile());
    JsonNode s1 = report.at("/scenarios/0");
    assertThat(names(s1.get("targets"))).containsExactly("direct", "nginx", "haproxy", "meridian", "meridian-matched");
    JsonNode ratios = s1.get("ratios");
    assertThat(ratios.get("meridian-matched/best").asDouble()).isCloseTo(15500.0 / 12500, within(1e-9));
    assertThat(ratios.get("meridian-matched/nginx").asDouble()).isCloseTo(15500.0 / 11000, within(1e-9));
    assertThat(ratios.get("p99 meridian-matched/best").asDouble()).isCloseTo(1.1 / 2.2, within(1e-9));
    assertThat(ratios.get("meridian/best").asDouble()).as("meridian's own ratio unchanged")
        .isCloseTo(14500.0 / 12500, within(1e-9));
    assertThat(report.at("/scenarios/1/ratios").has("meridian-matched/best")).as("S7 without it").isFalse();

    String md = Files.readString(runDir.resolve("report.md"));
    assertThat(md)
        .contains("- meridian-matched / best peer (haproxy): x1.24 (higher is better); p99 x0.50 (lower is better)\n")
        .contains("| S1 | small GET, keep-alive, wrk -c50 | req/s | higher is better | 14500 | haproxy | 12500 | x1.16 | x0.50 | x1.24 |\n")
        .contains("| S7-h1 | idle connections, memory | KiB/conn | lower is better | 8.20 | nginx | 4.20 | x1.95 | n/a | n/a |\n");
  }

  @Test
  void chartsArePngsOfTheExpectedSize() throws IOException {
    writeRun(RESULTS);
    List<Path> written = BenchReport.write(runDir);

    assertThat(written).containsExactlyInAnyOrder(runDir.resolve("report.md"), runDir.resolve("report.json"),
        runDir.resolve("ratios.png"), runDir.resolve("latency-S1.png"));
    for (String chart : List.of("ratios.png", "latency-S1.png")) {
      byte[] bytes = Files.readAllBytes(runDir.resolve(chart));
      assertThat(bytes).startsWith(PNG_MAGIC);
      BufferedImage image = ImageIO.read(runDir.resolve(chart).toFile());
      assertThat(image.getWidth()).as(chart).isEqualTo(1000);
      assertThat(image.getHeight()).as(chart).isEqualTo(500);
    }
    assertThat(runDir.resolve("latency-S7-h1.png")).doesNotExist();
  }

  @Test
  void latencyAxisLabelsArePercentiles() {
    assertThat(ReportCharts.percentileLabel(1)).isEqualTo("90%");
    assertThat(ReportCharts.percentileLabel(2)).isEqualTo("99%");
    assertThat(ReportCharts.percentileLabel(3)).isEqualTo("99.9%");
    assertThat(ReportCharts.percentileLabel(4)).isEqualTo("99.99%");
    assertThat(ReportCharts.latencyFileName("S2@50%")).isEqualTo("latency-S2-50.png");
  }

  @Test
  void partialDataGivesNotAvailableInsteadOfFailing() throws IOException {
    writeRun("""
        {"scenario":"S2@50%","title":"open loop at 50%","target":"nginx","rep":1,"metric":"req/s","value":5000,"better":"higher","latency_ms":{"99":2.0,"100":5.0},"status":"ok"}
        {"scenario":"S2@50%","title":"open loop at 50%","target":"meridian","rep":1,"metric":"req/s","value":null,"status":"failed"}
        {"scenario":"S3","title":"big bodies","target":"nginx","rep":1,"metric":"MiB/s","status":"died"}
        {"scenario":"S3","title":"big bodies","target":"meridian","rep":1,"metric":"MiB/s","value":null,"status":"skipped"}
        {"scenario":"S4","target":"meridi
        """);
    List<Path> written = BenchReport.write(runDir);

    String md = Files.readString(runDir.resolve("report.md"));
    assertThat(md)
        .contains("| meridian | n/a | n/a | n/a | n/a | n/a | n/a | failed | n/a (failed) |\n")
        .contains("- meridian / nginx: n/a; p99 n/a\n")
        .contains("| S3 | big bodies | MiB/s | higher is better | n/a | n/a | n/a | n/a | n/a | n/a |\n")
        .contains("- results.jsonl line 5: not JSON");
    JsonNode report = new ObjectMapper().readTree(runDir.resolve("report.json").toFile());
    assertThat(report.at("/scenarios/0/ratios/best_peer").asText()).isEqualTo("nginx");
    assertThat(report.at("/scenarios/0/ratios/meridian~1best").isNull()).isTrue();
    assertThat(report.at("/scenarios/1/targets/nginx/status").asText()).isEqualTo("died");
    assertThat(report.at("/scenarios/1/ratios/best_peer").isNull()).isTrue();
    assertThat(report.at("/skipped/0").asText()).startsWith("results.jsonl line 5: not JSON");
    assertThat(written).contains(runDir.resolve("latency-S2-50.png"), runDir.resolve("ratios.png"));
    assertThat(ImageIO.read(runDir.resolve("latency-S2-50.png").toFile()).getWidth()).isEqualTo(1000);
  }

  @Test
  void missingOrUnreadableFilesAreNamedInTheError() throws IOException {
    assertThatThrownBy(() -> BenchReport.write(runDir.resolve("nope")))
        .isInstanceOf(IOException.class).hasMessageContaining("run directory not found");
    Files.writeString(runDir.resolve("run.json"), RUN);
    assertThatThrownBy(() -> BenchReport.write(runDir))
        .isInstanceOf(IOException.class).hasMessageContaining("results.jsonl not found");
    Files.writeString(runDir.resolve("results.jsonl"), RESULTS);
    Files.writeString(runDir.resolve("run.json"), "{\"date\":");
    assertThatThrownBy(() -> BenchReport.write(runDir))
        .isInstanceOf(IOException.class).hasMessageContaining("run.json: not valid JSON");
    assertThat(runDir.resolve("report.md")).doesNotExist();
  }

  private void writeRun(String results) throws IOException {
    Files.writeString(runDir.resolve("run.json"), RUN);
    Files.writeString(runDir.resolve("results.jsonl"), results);
  }

  private static List<String> names(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
