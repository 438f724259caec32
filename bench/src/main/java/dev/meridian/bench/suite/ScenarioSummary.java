package dev.meridian.bench.suite;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One scenario of a run: each target's {@link TargetSummary} in display order, and Meridian's ratios
 * to nginx, HAProxy, the better of the two (the "best peer", by the scenario's {@code better}) and,
 * when measured, the baseline; when {@code meridian-matched} (the same build with the headers it adds
 * matched to the peers') was measured, its ratios to nginx, HAProxy and the best peer too. A ratio is
 * always subject / peer, for the value and for the p99; it is null when either side has no median.
 * Each distinct {@code scenario} string ("S2@50%", "S7-h1") is its own scenario.
 */
record ScenarioSummary(String scenario, String title, String metric, boolean lowerIsBetter,
    Map<String, TargetSummary> targets, String bestPeer, List<Comparison> comparisons) {

  /** Targets in the order they are shown; others follow in order of first appearance. */
  static final List<String> DISPLAY_ORDER = List.of("direct", "nginx", "haproxy", "baseline", "meridian",
      "meridian-matched");
  static final String MERIDIAN = "meridian";
  /** Meridian with the headers it adds matched to the peers' configurations. */
  static final String MATCHED = "meridian-matched";
  static final List<String> PEERS = List.of("nginx", "haproxy");
  static final String P99 = "99";

  /**
   * A Meridian target compared with one other.
   *
   * @param subject {@link #MERIDIAN} or {@link #MATCHED} (the JSON keys are subject + "/" + key)
   * @param key "nginx", "haproxy", "best" or "baseline"
   * @param peer the compared target's name (for "best", the best peer's; null when there is none)
   */
  record Comparison(String subject, String key, String peer, Double value, Double p99) {}

  /** Groups the measurements by scenario (in order of first appearance) and summarizes each. */
  static List<ScenarioSummary> summarize(List<Measurement> measurements) {
    Map<String, List<Measurement>> byScenario = measurements.stream()
        .collect(Collectors.groupingBy(Measurement::scenario, LinkedHashMap::new, Collectors.toList()));
    return byScenario.entrySet().stream().map(e -> of(e.getKey(), e.getValue())).toList();
  }

  private static ScenarioSummary of(String scenario, List<Measurement> measurements) {
    Map<String, List<Measurement>> byTarget = measurements.stream()
        .collect(Collectors.groupingBy(Measurement::target, LinkedHashMap::new, Collectors.toList()));
    Map<String, TargetSummary> targets = new LinkedHashMap<>();
    byTarget.keySet().stream().sorted(Comparator.comparingInt(ScenarioSummary::displayRank))
        .forEach(t -> targets.put(t, TargetSummary.of(t, byTarget.get(t))));
    boolean lowerIsBetter = "lower".equalsIgnoreCase(first(measurements, Measurement::better));
    String bestPeer = PEERS.stream().filter(p -> targets.containsKey(p) && targets.get(p).median() != null)
        .reduce(null, (best, p) -> best == null || isBetter(targets.get(p).median(), targets.get(best).median(),
            lowerIsBetter) ? p : best);
    List<Comparison> comparisons = new ArrayList<>();
    PEERS.forEach(p -> comparisons.add(compare(MERIDIAN, p, p, targets)));
    comparisons.add(compare(MERIDIAN, "best", bestPeer, targets));
    if (targets.containsKey("baseline")) {
      comparisons.add(compare(MERIDIAN, "baseline", "baseline", targets));
    }
    if (targets.containsKey(MATCHED)) {
      PEERS.forEach(p -> comparisons.add(compare(MATCHED, p, p, targets)));
      comparisons.add(compare(MATCHED, "best", bestPeer, targets));
    }
    return new ScenarioSummary(scenario, first(measurements, Measurement::title),
        first(measurements, Measurement::metric), lowerIsBetter, targets, bestPeer, List.copyOf(comparisons));
  }

  /** Whether any target has latency percentiles. */
  boolean hasLatency() {
    return targets.values().stream().anyMatch(t -> !t.latencyMs().isEmpty());
  }

  /** The target's median relative to the best peer's, inverted for a lower-is-better metric so that higher is always better. */
  Double relativeToBestPeer(String target) {
    Double best = bestPeer == null ? null : targets.get(bestPeer).median();
    Double own = targets.containsKey(target) ? targets.get(target).median() : null;
    return lowerIsBetter ? ratio(best, own) : ratio(own, best);
  }

  /** Meridian's comparison with the given key ("best", "nginx", ...), or null. */
  Comparison comparison(String key) {
    return comparison(MERIDIAN, key);
  }

  /** The subject's comparison with the given key, or null (none for a subject not measured). */
  Comparison comparison(String subject, String key) {
    return comparisons.stream().filter(c -> c.subject().equals(subject) && c.key().equals(key))
        .findFirst().orElse(null);
  }

  private static Comparison compare(String subject, String key, String peer, Map<String, TargetSummary> targets) {
    TargetSummary own = targets.get(subject);
    TargetSummary other = peer == null ? null : targets.get(peer);
    if (own == null || other == null) {
      return new Comparison(subject, key, peer, null, null);
    }
    return new Comparison(subject, key, peer, ratio(own.median(), other.median()),
        ratio(own.latency(P99), other.latency(P99)));
  }

  private static Double ratio(Double numerator, Double denominator) {
    return numerator == null || denominator == null || denominator == 0 ? null : numerator / denominator;
  }

  private static boolean isBetter(double a, double b, boolean lowerIsBetter) {
    return lowerIsBetter ? a < b : a > b;
  }

  private static int displayRank(String target) {
    int rank = DISPLAY_ORDER.indexOf(target);
    return rank >= 0 ? rank : DISPLAY_ORDER.size();
  }

  private static <T> T first(List<Measurement> measurements, Function<Measurement, T> field) {
    return measurements.stream().map(field).filter(Objects::nonNull).findFirst().orElse(null);
  }
}
