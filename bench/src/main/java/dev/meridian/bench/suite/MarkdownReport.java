package dev.meridian.bench.suite;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/**
 * Writes {@code report.md}: the run's description (every {@code run.json} field, nested ones as
 * {@code key.sub}), one table per scenario with Meridian's ratios below it, and a summary table.
 * Numbers: values of 100 and more without decimals, smaller ones and milliseconds to 3 significant
 * digits, percentages to 1 decimal, ratios to 2; a missing number is "n/a".
 */
final class MarkdownReport {
  static final String FILE = "report.md";
  private static final String NA = "n/a";
  /** The latency columns of a scenario table, shown when some target has them. */
  private static final List<String> TABLE_PERCENTILES = List.of("50", "99", "99.9");

  private MarkdownReport() {}

  /** Writes the report; {@code charts} are the chart files written, linked from the report. */
  static void write(RunResults results, List<ScenarioSummary> scenarios, Set<String> charts, Path file)
      throws IOException {
    StringBuilder md = new StringBuilder("# Meridian benchmark\n\n");
    header(results.run(), "", md);
    if (!results.skipped().isEmpty()) {
      md.append("\nUnreadable results:\n\n");
      results.skipped().forEach(problem -> md.append("- ").append(problem).append('\n'));
    }
    for (ScenarioSummary s : scenarios) {
      scenario(s, charts, md);
    }
    summary(scenarios, md);
    if (charts.contains(ReportCharts.RATIOS_FILE)) {
      md.append("\n![Median relative to the best peer](").append(ReportCharts.RATIOS_FILE).append(")\n");
    }
    Files.writeString(file, md, StandardCharsets.UTF_8);
  }

  private static void header(JsonNode node, String key, StringBuilder md) {
    if (node.isObject()) {
      node.properties().forEach(e -> header(e.getValue(), key.isEmpty() ? e.getKey() : key + "." + e.getKey(), md));
      return;
    }
    String text = node.isArray()
        ? StreamSupport.stream(node.spliterator(), false).map(MarkdownReport::scalar).collect(Collectors.joining("; "))
        : scalar(node);
    md.append("- ").append(key).append(": ").append(text).append('\n');
  }

  private static String scalar(JsonNode node) {
    return node.isNull() ? NA : node.isValueNode() ? node.asText() : node.toString();
  }

  private static void scenario(ScenarioSummary s, Set<String> charts, StringBuilder md) {
    md.append("\n## ").append(s.scenario()).append(s.title() == null ? "" : ": " + s.title()).append("\n\n");
    String metric = metric(s);
    List<String> percentiles = TABLE_PERCENTILES.stream()
        .filter(p -> s.targets().values().stream().anyMatch(t -> t.latency(p) != null)).toList();
    int reps = s.targets().values().stream().mapToInt(t -> t.reps().size()).max().orElse(0);
    List<String> header = new ArrayList<>(List.of("target", metric + " (median)"));
    percentiles.forEach(p -> header.add("p" + p + " ms"));
    header.addAll(List.of("errors", "proxy CPU %", metric + " per CPU-s", "other load %", "status"));
    for (int i = 1; i <= reps; i++) {
      header.add("rep " + i);
    }
    List<List<String>> rows = new ArrayList<>();
    for (TargetSummary t : s.targets().values()) {
      List<String> row = new ArrayList<>(List.of(t.target(), number(t.median())));
      percentiles.forEach(p -> row.add(number(t.latency(p))));
      row.addAll(List.of(t.errors() == null ? NA : t.errors().toString(), percent(t.proxyCpuPct()),
          number(t.perCpuS()), percent(t.otherLoadPct()), t.status()));
      for (int i = 0; i < reps; i++) {
        row.add(i < t.reps().size() ? repCell(t.reps().get(i)) : "");
      }
      rows.add(row);
    }
    table(header, rows, md);
    ratios(s, md);
    s.targets().values().stream().filter(t -> !t.notes().isEmpty()).forEach(t ->
        md.append("\nNote (").append(t.target()).append("): ").append(String.join("; ", t.notes())).append('\n'));
    String chart = ReportCharts.latencyFileName(s.scenario());
    if (charts.contains(chart)) {
      md.append("\n![").append(s.scenario()).append(" latency by percentile](").append(chart).append(")\n");
    }
  }

  private static void ratios(ScenarioSummary s, StringBuilder md) {
    String direction = direction(s);
    md.append("\nMeridian's ratios (meridian / peer, medians):\n\n");
    for (ScenarioSummary.Comparison c : s.comparisons()) {
      String peer = !c.key().equals("best") ? c.peer() : c.peer() == null ? "best peer" : "best peer (" + c.peer() + ")";
      md.append("- ").append(c.subject()).append(" / ").append(peer).append(": ").append(ratio(c.value()));
      md.append(c.value() == null ? "" : " (" + direction + ")");
      if (s.hasLatency()) {
        md.append("; p99 ").append(ratio(c.p99())).append(c.p99() == null ? "" : " (lower is better)");
      }
      md.append('\n');
    }
  }

  private static void summary(List<ScenarioSummary> scenarios, StringBuilder md) {
    md.append("\n## Summary\n\n");
    List<List<String>> rows = new ArrayList<>();
    for (ScenarioSummary s : scenarios) {
      TargetSummary meridian = s.targets().get(ScenarioSummary.MERIDIAN);
      ScenarioSummary.Comparison best = s.comparison("best");
      ScenarioSummary.Comparison matched = s.comparison(ScenarioSummary.MATCHED, "best");
      rows.add(List.of(s.scenario(), s.title() == null ? "" : s.title(), metric(s), direction(s),
          number(meridian == null ? null : meridian.median()), s.bestPeer() == null ? NA : s.bestPeer(),
          number(s.bestPeer() == null ? null : s.targets().get(s.bestPeer()).median()), ratio(best.value()),
          s.hasLatency() ? ratio(best.p99()) : NA, matched == null ? NA : ratio(matched.value())));
    }
    table(List.of("scenario", "title", "metric", "better", "meridian", "best peer", "best peer median",
        "meridian / best", "p99 meridian / best", "matched / best"), rows, md);
  }

  private static void table(List<String> header, List<List<String>> rows, StringBuilder md) {
    md.append(row(header)).append(row(header.stream().map(h -> "---").toList()));
    rows.forEach(r -> md.append(row(r)));
  }

  private static String row(List<String> cells) {
    return cells.stream().map(c -> c.replace("|", "\\|").replace('\n', ' '))
        .collect(Collectors.joining(" | ", "| ", " |\n"));
  }

  private static String repCell(Measurement m) {
    return "ok".equalsIgnoreCase(m.status()) ? number(m.value()) : number(m.value()) + " (" + m.status() + ")";
  }

  private static String metric(ScenarioSummary s) {
    return s.metric() == null ? "value" : s.metric();
  }

  private static String direction(ScenarioSummary s) {
    return s.lowerIsBetter() ? "lower is better" : "higher is better";
  }

  /** 100 and more without decimals (req/s), smaller values to 3 significant digits (ms, KiB). */
  static String number(Double v) {
    if (v == null) {
      return NA;
    }
    if (Math.abs(v) >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    BigDecimal rounded = new BigDecimal(v).round(new MathContext(3));
    int integerDigits = rounded.precision() - rounded.scale();
    return rounded.setScale(Math.max(0, 3 - integerDigits), RoundingMode.HALF_UP).toPlainString();
  }

  private static String percent(Double v) {
    return v == null ? NA : String.format(Locale.ROOT, "%.1f", v);
  }

  private static String ratio(Double v) {
    return v == null ? NA : String.format(Locale.ROOT, "x%.2f", v);
  }
}
