package dev.meridian.proxy.drill;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meridian.proxy.regions.LatencyBuckets;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Runs one failover drill: baseline, action, hold, restore, recovery. Every interval (250 ms) it reads
 * the group's per-region counters from the admin API (and, with its own load, the latencies that load
 * measured), adds them to the current phase and to the timeline, and watches two moments: when the
 * region's share of requests falls below 1% after the action (the shift), and when it is back to 90%
 * of its baseline share after the restore (the fail-back). The action carries a time limit, and a
 * shutdown hook restores it, so an interrupted drill leaves nothing behind.
 */
public final class Drill {
  /** A region's share below this after the action counts as shifted away. */
  static final double SHIFTED_SHARE = 0.01;
  /** Back to this fraction of the baseline share after the restore counts as failed back. */
  static final double FAILED_BACK = 0.9;

  private final DrillPlan plan;
  private final PrintStream progress;
  private final AdminClient admin;
  private final boolean interactive = System.console() != null;
  private final List<DrillReport.Sample> timeline = new ArrayList<>();
  private final Map<String, PhaseStats> phases = new LinkedHashMap<>();
  private LoadGenerator load;
  private long startNanos;
  private PhaseStats current;
  private Snapshot previous;
  private long previousCompleted;
  private Map<String, Long> previousLoadErrors = Map.of();
  private Long shiftMillis;
  private Long failbackMillis;
  private long actionMillis;
  private long restoreMillis;
  private long lastProgressNanos;

  /** The counters read from the admin API at one moment: picks and answers per region, errors, latency. */
  private record Snapshot(Map<String, Long> picked, Map<String, Long> requests, Map<String, Long> errors,
      long[] buckets) {}

  /** Prepares a drill; {@code progress} gets a line about once a second while it runs. */
  public Drill(DrillPlan plan, PrintStream progress) {
    this.plan = plan;
    this.progress = progress;
    this.admin = new AdminClient(plan.admin(), plan.adminToken());
  }

  /**
   * Runs the drill and returns its report (SLO verdicts included).
   *
   * @throws IllegalArgumentException when the group or region does not exist (bad use)
   * @throws AdminClient.AdminException when the admin API cannot be reached or refuses a call
   */
  public DrillReport run() throws InterruptedException {
    JsonNode group = groupNode();
    if (!group.path("regions").toString().contains("\"" + plan.region() + "\"")) {
      throw new IllegalArgumentException("region: '" + plan.region() + "' (expected: one of "
          + group.path("regions") + " in group '" + plan.group() + "')");
    }
    refuseWhenSomethingIsInForce(group);
    int previousDial = group.path("dials").path(plan.region()).asInt(100);
    Instant startedAt = Instant.now();
    startNanos = System.nanoTime();
    previous = snapshot(group);
    if (plan.load().isPresent()) {
      DrillPlan.Load l = plan.load().get();
      load = new LoadGenerator(l.target(), l.rate(), l.connections(), l.headers(), l.timeout(), l.insecure());
      load.start();
    }
    Thread restorer = new Thread(() -> restoreQuietly(previousDial), "meridian-drill-restore");
    boolean completed = false;
    try {
      if (load != null) {
        warmUp();
      }
      runPhase("baseline", plan.baseline());
      refuseWithoutBaselineTraffic();
      Runtime.getRuntime().addShutdownHook(restorer);
      plan.action().apply(admin, plan.group(), plan.region(), plan.actionTimeLimit());
      // The action is in force once the admin API answered; what was sent before goes to the baseline.
      actionMillis = elapsedMillis();
      sample();
      runPhase("during", plan.hold());
      plan.action().restore(admin, plan.group(), plan.region(), previousDial);
      restoreMillis = elapsedMillis();
      Runtime.getRuntime().removeShutdownHook(restorer);
      sample();
      runRecovery();
      completed = true;
    } finally {
      if (load != null) {
        load.close();
      }
    }
    if (load != null && completed) {
      sample(); // what was still in flight when the load stopped
    }
    if (interactive) {
      progress.println();
    }
    DrillReport report = new DrillReport(plan, startedAt, new ArrayList<>(phases.values()), timeline, shiftMillis,
        failbackMillis, actionMillis, restoreMillis);
    report.judge();
    return report;
  }

  /**
   * A drill restores what it found, so it must not start over a change someone else left in force on
   * the region: a time-limited change (perhaps from a drill that died), a fault it would clear, or a
   * region ejection it would end.
   */
  private void refuseWhenSomethingIsInForce(JsonNode group) {
    String region = plan.region();
    group.path("time-limits-ms").fields().forEachRemaining(limit -> {
      String key = limit.getKey();
      if (key.endsWith("/" + region) && !key.contains("/backend/")) {
        throw new IllegalArgumentException("region " + region + " of group '" + plan.group() + "' has a "
            + "time-limited change in force ('" + key + "', " + limit.getValue().asLong() + " ms left), perhaps from"
            + " a drill that did not finish; wait for it to end or undo it first");
      }
    });
    JsonNode state = group.path("by-region").path(region);
    boolean faultAction = plan.action().kind().equals("delay") || plan.action().kind().equals("abort");
    if (faultAction && !state.path("fault").isNull() && !state.path("fault").isMissingNode()) {
      throw new IllegalArgumentException("region " + region + " already has a fault injected ("
          + state.path("fault").path("description").asText() + "); clear it first: DELETE "
          + admin.base() + "/admin/api/regions/" + plan.group() + "/" + region + "/fault");
    }
    if (plan.action().kind().equals("eject") && state.path("region-ejected").asBoolean()) {
      throw new IllegalArgumentException("region " + region + " is already ejected; restore it first: POST "
          + admin.base() + "/admin/api/regions/" + plan.group() + "/" + region + "/restore");
    }
  }

  /** A region that took no part of the group's traffic during the baseline has nothing to drill. */
  private void refuseWithoutBaselineTraffic() {
    PhaseStats baseline = phases.get("baseline");
    double share = baseline.share(plan.region());
    if (Double.isNaN(share)) {
      throw new IllegalArgumentException("no request reached group '" + plan.group() + "' during the "
          + plan.baseline().toMillis() + " ms baseline; send traffic (or use --target) and try again");
    }
    if (share < SHIFTED_SHARE) {
      throw new IllegalArgumentException(String.format(Locale.ROOT, "region %s got %.2f%% of group '%s' requests"
          + " during the baseline: nothing to drill (with --target, send headers that reach it, e.g."
          + " --header X-Client-Region:%s)", plan.region(), share * 100, plan.group(), plan.region()));
    }
  }

  /**
   * Lets the drill's own load run for the plan's warm-up before the baseline starts (connections
   * open, code compiled on both sides), then forgets what it measured.
   */
  private void warmUp() throws InterruptedException {
    sleepUntil(System.nanoTime() + plan.load().get().warmUp().toNanos());
    load.interval();
    previousCompleted = load.completed();
    previousLoadErrors = load.errors();
    previous = snapshot(groupNode());
    startNanos = System.nanoTime();
  }

  private void restoreQuietly(int previousDial) {
    try {
      plan.action().restore(admin, plan.group(), plan.region(), previousDial);
      progress.println("drill interrupted: " + plan.action() + " on " + plan.region() + " restored");
    } catch (RuntimeException e) {
      progress.println("drill interrupted: could not restore " + plan.region() + ": " + e.getMessage()
          + " (it expires by itself within " + plan.actionTimeLimit().toSeconds() + " s)");
    }
  }

  private void runPhase(String name, Duration length) throws InterruptedException {
    current = new PhaseStats(name, elapsedMillis());
    phases.put(name, current);
    long end = System.nanoTime() + length.toNanos();
    long step = plan.interval().toNanos();
    long next = System.nanoTime() + step;
    while (true) {
      long wake = Math.min(next, end);
      sleepUntil(wake);
      sample();
      if (wake >= end) {
        return;
      }
      next += step;
    }
  }

  /** After the restore: until the region has failed back (and a second more), or the recovery time. */
  private void runRecovery() throws InterruptedException {
    current = new PhaseStats("after", elapsedMillis());
    phases.put("after", current);
    long end = System.nanoTime() + plan.recovery().toNanos();
    long step = plan.interval().toNanos();
    long next = System.nanoTime() + step;
    Long settledAt = null;
    while (System.nanoTime() < end) {
      sleepUntil(Math.min(next, end));
      sample();
      next += step;
      if (failbackMillis != null && settledAt == null) {
        settledAt = System.nanoTime() + Duration.ofSeconds(1).toNanos();
      }
      if (settledAt != null && System.nanoTime() >= settledAt) {
        return;
      }
    }
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long left = nanos - System.nanoTime();
    if (left > 0) {
      Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
    }
  }

  private long elapsedMillis() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  private JsonNode groupNode() {
    JsonNode regions = admin.regions();
    JsonNode group = regions.get(plan.group());
    if (group == null) {
      List<String> names = new ArrayList<>();
      regions.fieldNames().forEachRemaining(names::add);
      throw new IllegalArgumentException("group: '" + plan.group() + "' (expected: one of " + names + ")");
    }
    return group;
  }

  /** Reads the counters, adds what changed to the phase and the timeline, and checks shift and fail-back. */
  private void sample() {
    Snapshot now = snapshot(groupNode());
    long t = elapsedMillis();
    // Shares come from picks: they move the moment a dial or an ejection does, while answers lag.
    Map<String, Long> regionDelta = delta(now.picked(), previous.picked());
    Map<String, Long> answeredDelta = delta(now.requests(), previous.requests());
    long[] bucketDelta = new long[now.buckets().length];
    for (int i = 0; i < bucketDelta.length; i++) {
      bucketDelta[i] = now.buckets()[i] - previous.buckets()[i];
    }
    long requests;
    long errors;
    double p99;
    if (load != null) {
      Histogram interval = load.interval();
      long completed = load.completed();
      Map<String, Long> loadErrors = load.errors();
      Map<String, Long> errorDelta = delta(loadErrors, previousLoadErrors);
      requests = completed - previousCompleted;
      errors = errorDelta.values().stream().mapToLong(Long::longValue).sum();
      p99 = interval.getTotalCount() == 0 ? Double.NaN : interval.getValueAtPercentile(99) / 1000.0;
      current.addLatencies(interval);
      current.addErrors(errorDelta);
      previousCompleted = completed;
      previousLoadErrors = loadErrors;
    } else {
      Map<String, Long> errorDelta = delta(now.errors(), previous.errors());
      requests = answeredDelta.values().stream().mapToLong(Long::longValue).sum();
      errors = errorDelta.values().stream().mapToLong(Long::longValue).sum();
      p99 = LatencyBuckets.quantileMillis(bucketDelta, 0.99);
      current.addBuckets(bucketDelta);
      current.addErrors(errorDelta);
    }
    current.requests += requests;
    current.addRegionPicks(regionDelta);
    current.toMillis = t;
    previous = now;
    timeline.add(new DrillReport.Sample(t, current.name, regionDelta, requests, errors, p99));
    watchShiftAndFailback(t, regionDelta);
    printProgress(t, regionDelta, requests, errors, p99);
  }

  private void watchShiftAndFailback(long t, Map<String, Long> regionDelta) {
    long total = regionDelta.values().stream().mapToLong(Long::longValue).sum();
    if (total == 0) {
      return;
    }
    double share = (double) regionDelta.getOrDefault(plan.region(), 0L) / total;
    if (current.name.equals("during") && shiftMillis == null && share < SHIFTED_SHARE) {
      shiftMillis = t - actionMillis;
    }
    PhaseStats baseline = phases.get("baseline");
    double before = baseline == null ? Double.NaN : baseline.share(plan.region());
    if (current.name.equals("after") && failbackMillis == null && before >= SHIFTED_SHARE
        && share >= FAILED_BACK * before) {
      failbackMillis = t - restoreMillis;
    }
  }

  private void printProgress(long t, Map<String, Long> regionDelta, long requests, long errors, double p99) {
    long now = System.nanoTime();
    if (now - lastProgressNanos < (interactive ? 1_000_000_000L : 5_000_000_000L)) {
      return;
    }
    lastProgressNanos = now;
    long total = regionDelta.values().stream().mapToLong(Long::longValue).sum();
    String share = total == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%",
        100.0 * regionDelta.getOrDefault(plan.region(), 0L) / total);
    String line = String.format(Locale.ROOT, "[%s %5.1fs] %s share %s | %d req in %d ms | errors %d | p99 %s",
        current.name, t / 1000.0, plan.region(), share, requests, plan.interval().toMillis(), errors,
        Double.isNaN(p99) ? "-" : SloSpec.fmt(p99) + " ms");
    if (interactive) {
      progress.print("\r" + line + "    ");
    } else {
      progress.println(line);
    }
    progress.flush();
  }

  private static Map<String, Long> delta(Map<String, Long> now, Map<String, Long> before) {
    Map<String, Long> out = new LinkedHashMap<>();
    now.forEach((k, v) -> out.put(k, v - before.getOrDefault(k, 0L)));
    return out;
  }

  private static Snapshot snapshot(JsonNode group) {
    Map<String, Long> picked = new LinkedHashMap<>();
    Map<String, Long> requests = new LinkedHashMap<>();
    Map<String, Long> errors = new LinkedHashMap<>();
    long[] buckets = new long[LatencyBuckets.BOUNDS_MS.length + 1];
    Iterator<Map.Entry<String, JsonNode>> regions = group.path("by-region").fields();
    while (regions.hasNext()) {
      Map.Entry<String, JsonNode> e = regions.next();
      if (e.getValue().has("picked")) {
        picked.put(e.getKey(), e.getValue().path("picked").asLong());
      }
      requests.put(e.getKey(), e.getValue().path("requests").asLong());
      e.getValue().path("errors-by-kind").fields().forEachRemaining(k ->
          errors.merge(k.getKey(), k.getValue().asLong(), Long::sum));
      Iterator<JsonNode> counts = e.getValue().path("latency-buckets-ms").elements();
      for (int i = 0; counts.hasNext() && i < buckets.length; i++) {
        buckets[i] += counts.next().asLong();
      }
    }
    return new Snapshot(picked, requests, errors, buckets);
  }
}
