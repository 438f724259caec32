package dev.meridian.bench.suite;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes {@code report.json}: {@code run} (run.json as read), {@code skipped} (unreadable results
 * lines) and {@code scenarios}, each with its title, metric, {@code better}, per target the median,
 * the repetitions' values and statuses, the median per latency percentile, errors, CPU figures and the
 * worst status, and {@code ratios}: "meridian/nginx", "meridian/haproxy", "meridian/best",
 * "best_peer", "meridian/baseline" (when measured), "meridian-matched/nginx", "-/haproxy" and
 * "-/best" (when measured) and the same with a "p99 " prefix. Numbers are
 * unrounded; a missing one is null.
 */
final class JsonReport {
  static final String FILE = "report.json";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private JsonReport() {}

  static void write(RunResults results, List<ScenarioSummary> scenarios, Path file) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.set("run", results.run());
    results.skipped().forEach(root.putArray("skipped")::add);
    ArrayNode list = root.putArray("scenarios");
    for (ScenarioSummary s : scenarios) {
      ObjectNode scenario = list.addObject();
      scenario.put("scenario", s.scenario()).put("title", s.title()).put("metric", s.metric())
          .put("better", s.lowerIsBetter() ? "lower" : "higher");
      ObjectNode targets = scenario.putObject("targets");
      s.targets().values().forEach(t -> target(t, targets.putObject(t.target())));
      ObjectNode ratios = scenario.putObject("ratios");
      ratios.put("best_peer", s.bestPeer());
      for (ScenarioSummary.Comparison c : s.comparisons()) {
        ratios.put(c.subject() + "/" + c.key(), c.value());
        ratios.put("p99 " + c.subject() + "/" + c.key(), c.p99());
      }
    }
    JSON.writeValue(file.toFile(), root);
  }

  private static void target(TargetSummary t, ObjectNode node) {
    node.put("median", t.median());
    ArrayNode reps = node.putArray("reps");
    ArrayNode statuses = node.putArray("rep_status");
    t.reps().forEach(m -> {
      reps.add(m.value());
      statuses.add(m.status());
    });
    ObjectNode latency = node.putObject("latency_ms");
    t.latencyMs().forEach(latency::put);
    node.put("errors", t.errors()).put("proxy_cpu_pct", t.proxyCpuPct()).put("per_cpu_s", t.perCpuS())
        .put("other_load_pct", t.otherLoadPct()).put("status", t.status());
    t.notes().forEach(node.putArray("notes")::add);
  }
}
