package dev.meridian.proxy.drill;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The result of a drill: per phase (baseline, during, after) requests, errors by kind, latency
 * percentiles and region shares; the shift and fail-back times; the timeline; and the SLO verdicts.
 * Written as a table ({@link #table()}), Markdown, JSON and a PNG timeline ({@link #write(Path)}).
 */
public final class DrillReport {
  /**
   * One interval of the timeline: requests sent to each region (picks), requests completed, errors,
   * and their p99 (NaN: none).
   */
  record Sample(long tMillis, String phase, Map<String, Long> regionPicks, long requests, long errors,
      double p99Millis) {}

  private static final double[] QUANTILES = {0.5, 0.99, 0.999};
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final DrillPlan plan;
  private final Instant startedAt;
  private final List<PhaseStats> phases;
  private final List<Sample> timeline;
  private final Long shiftMillis;
  private final Long failbackMillis;
  private final long actionMillis;
  private final long restoreMillis;
  private List<SloSpec.Verdict> verdicts = List.of();

  DrillReport(DrillPlan plan, Instant startedAt, List<PhaseStats> phases, List<Sample> timeline, Long shiftMillis,
      Long failbackMillis, long actionMillis, long restoreMillis) {
    this.plan = plan;
    this.startedAt = startedAt;
    this.phases = phases;
    this.timeline = timeline;
    this.shiftMillis = shiftMillis;
    this.failbackMillis = failbackMillis;
    this.actionMillis = actionMillis;
    this.restoreMillis = restoreMillis;
  }

  void judge() {
    verdicts = plan.slo().judge(this);
  }

  /** Whether every SLO held. */
  public boolean passed() {
    return verdicts.stream().allMatch(SloSpec.Verdict::held);
  }

  /** The SLO verdicts in the order given. */
  public List<SloSpec.Verdict> verdicts() {
    return verdicts;
  }

  /** Milliseconds from the action until the region's share fell below 1%, or null if it never did. */
  public Long shiftMillis() {
    return shiftMillis;
  }

  /** Milliseconds from the restore until the region was back to 90% of its baseline share, or null. */
  public Long failbackMillis() {
    return failbackMillis;
  }

  /** Failed requests from the action to the end. */
  public long errorsFromAction() {
    return phases.stream().filter(p -> !p.name.equals("baseline")).mapToLong(PhaseStats::errors).sum();
  }

  /** Requests from the action to the end. */
  public long requestsFromAction() {
    return phases.stream().filter(p -> !p.name.equals("baseline")).mapToLong(p -> p.requests).sum();
  }

  PhaseStats phase(String name) {
    return phases.stream().filter(p -> p.name.equals(name)).findFirst().orElse(new PhaseStats(name, 0));
  }

  List<Sample> timeline() {
    return timeline;
  }

  long actionMillis() {
    return actionMillis;
  }

  long restoreMillis() {
    return restoreMillis;
  }

  DrillPlan plan() {
    return plan;
  }

  /** The regions seen in the drill, in first-seen order. */
  List<String> regions() {
    Set<String> out = new LinkedHashSet<>();
    phases.forEach(p -> out.addAll(p.regionPicks.keySet()));
    return new ArrayList<>(out);
  }

  /** Writes {@code drill-report.json}, {@code drill-report.md} and {@code drill-timeline.png} into the folder. */
  public void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("drill-report.json"), JSON.writeValueAsString(toMap()));
    Files.writeString(dir.resolve("drill-report.md"), markdown());
    TimelineChart.write(this, dir.resolve("drill-timeline.png"));
  }

  /** The report as plain data (what the JSON file holds). */
  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("started-at", startedAt.toString());
    m.put("admin", plan.admin().toString());
    m.put("group", plan.group());
    m.put("region", plan.region());
    m.put("action", plan.action().toString());
    m.put("hold-ms", plan.hold().toMillis());
    m.put("mode", plan.load().isPresent() ? "target" : "watch");
    plan.load().ifPresent(l -> {
      Map<String, Object> load = new LinkedHashMap<>();
      load.put("target", l.target().toString());
      load.put("rate", l.rate());
      load.put("connections", l.connections());
      m.put("load", load);
    });
    m.put("action-at-ms", actionMillis);
    m.put("restore-at-ms", restoreMillis);
    m.put("shift-ms", shiftMillis);
    m.put("failback-ms", failbackMillis);
    m.put("errors", errorsFromAction());
    m.put("requests", requestsFromAction());
    Map<String, Object> byPhase = new LinkedHashMap<>();
    for (PhaseStats p : phases) {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("from-ms", p.fromMillis);
      pm.put("to-ms", p.toMillis);
      pm.put("requests", p.requests);
      pm.put("errors", p.errors());
      pm.put("errors-by-kind", p.errorsByKind);
      pm.put("p50-ms", number(p.quantileMillis(0.5)));
      pm.put("p99-ms", number(p.quantileMillis(0.99)));
      pm.put("p999-ms", number(p.quantileMillis(0.999)));
      Map<String, Object> shares = new LinkedHashMap<>();
      for (String r : regions()) {
        shares.put(r, number(round(p.share(r) * 100)));
      }
      pm.put("share-percent", shares);
      byPhase.put(p.name, pm);
    }
    m.put("phases", byPhase);
    List<Object> slo = new ArrayList<>();
    for (SloSpec.Verdict v : verdicts) {
      Map<String, Object> vm = new LinkedHashMap<>();
      vm.put("name", v.name());
      vm.put("limit", v.limit());
      vm.put("actual", v.actual());
      vm.put("held", v.held());
      slo.add(vm);
    }
    m.put("slo", slo);
    m.put("passed", passed());
    List<Object> samples = new ArrayList<>();
    for (Sample s : timeline) {
      Map<String, Object> sm = new LinkedHashMap<>();
      sm.put("t-ms", s.tMillis());
      sm.put("phase", s.phase());
      sm.put("requests", s.requests());
      sm.put("errors", s.errors());
      sm.put("p99-ms", number(s.p99Millis()));
      sm.put("region-picks", s.regionPicks());
      samples.add(sm);
    }
    m.put("timeline", samples);
    return m;
  }

  /** The summary table printed at the end of a drill. */
  public String table() {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "Drill: group %s, region %s, action %s, hold %s s%n", plan.group(),
        plan.region(), plan.action(), SloSpec.fmt(plan.hold().toMillis() / 1000.0)));
    b.append(plan.load().map(l -> String.format(Locale.ROOT, "Load: %s req/s over %d connections to %s%n",
        SloSpec.fmt(l.rate()), l.connections(), l.target())).orElse("Load: live traffic (admin counters)\n"));
    List<String> regions = regions();
    b.append(String.format(Locale.ROOT, "%n%-9s %8s %8s %9s %7s %9s %9s %9s   %s%n", "phase", "from", "to",
        "requests", "errors", "p50 ms", "p99 ms", "p999 ms", "share " + String.join(" / ", regions)));
    for (PhaseStats p : phases) {
      List<String> shares = new ArrayList<>();
      for (String r : regions) {
        double s = p.share(r);
        shares.add(Double.isNaN(s) ? "-" : String.format(Locale.ROOT, "%.1f%%", s * 100));
      }
      b.append(String.format(Locale.ROOT, "%-9s %7.1fs %7.1fs %9d %7d %9s %9s %9s   %s%n", p.name,
          p.fromMillis / 1000.0, p.toMillis / 1000.0, p.requests, p.errors(), ms(p.quantileMillis(0.5)),
          ms(p.quantileMillis(0.99)), ms(p.quantileMillis(0.999)), String.join(" / ", shares)));
    }
    b.append('\n');
    b.append("shift (").append(plan.region()).append(" below 1%): ")
        .append(shiftMillis == null ? "not reached" : shiftMillis + " ms").append('\n');
    b.append("fail-back (").append(plan.region()).append(" back to 90% of its baseline share): ")
        .append(failbackMillis == null ? "not reached" : failbackMillis + " ms").append('\n');
    Map<String, Long> kinds = new LinkedHashMap<>();
    phases.stream().filter(p -> !p.name.equals("baseline")).forEach(p -> p.errorsByKind.forEach((k, v) ->
        kinds.merge(k, v, Long::sum)));
    b.append("errors from the action on: ").append(errorsFromAction()).append(" of ").append(requestsFromAction())
        .append(kinds.isEmpty() ? "" : " " + kinds).append('\n');
    if (!verdicts.isEmpty()) {
      b.append("SLOs:");
      for (SloSpec.Verdict v : verdicts) {
        b.append(' ').append(v.name()).append(" <= ").append(v.limit()).append(": ").append(v.actual())
            .append(v.held() ? " (held)" : " (BROKEN)").append(';');
      }
      b.setLength(b.length() - 1);
      b.append('\n');
    }
    b.append("result: ").append(passed() ? "PASS" : "FAIL").append('\n');
    return b.toString();
  }

  private String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("# Failover drill: ").append(plan.group()).append(" / ").append(plan.region()).append("\n\n");
    b.append("Started ").append(startedAt).append(" against `").append(plan.admin()).append("`.\n\n");
    b.append("```\n").append(table()).append("```\n\n");
    b.append("![timeline](drill-timeline.png)\n");
    return b.toString();
  }

  private static String ms(double v) {
    return Double.isNaN(v) ? "-" : SloSpec.fmt(v);
  }

  private static double round(double v) {
    return Double.isNaN(v) ? v : Math.round(v * 100) / 100.0;
  }

  private static Double number(double v) {
    return Double.isNaN(v) ? null : v;
  }
}
