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
 * when measured, the baseline. A ratio is always meridian / peer, for the value and for the p99; it is
 * null when either side has no median. Each distinct {@code scenario} string ("S2@50%", "S7-h1") is
 * its own scenario.
 */
record ScenarioSummary(String scenario, String title, String metric, boolean lowerIsBetter,
    Map<String, TargetSummary> targets, String bestPeer, List<Comparison> comparisons) {

  /** Targets in the order they are shown; others follow in order of first appearance. */
  static final List<String> DISPLAY_ORDER = List.of("direct", "nginx", "haproxy", "baseline", "meridian");
  static final String MERIDIAN = "meridian";
  static final List<String> PEERS = List.of("nginx", "haproxy");
  static final String P99 = "99";

  /**
   * Meridian compared with one target.
   *
   * @param key "nginx", "haproxy", "best" or "baseline" (the JSON keys are "meridian/" + key)
   * @param peer the compared target's name (for "best", the best peer's; null when there is none)
   */
  record Comparison(String key, String peer, Double value, Double p99) {}

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
    PEERS.forEach(p -> comparisons.add(compare(p, p, targets)));
    comparisons.add(compare("best", bestPeer, targets));
    if (targets.containsKey("baseline")) {
      comparisons.add(compare("baseline", "baseline", targets));
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

  /** The comparison with the given key ("best", "nginx", ...), or null. */
  Comparison comparison(String key) {
    return comparisons.stream().filter(c -> c.key().equals(key)).findFirst().orElse(null);
  }

  private static Comparison compare(String key, String peer, Map<String, TargetSummary> targets) {
    TargetSummary meridian = targets.get(MERIDIAN);
    TargetSummary other = peer == null ? null : targets.get(peer);
    if (meridian == null || other == null) {
      return new Comparison(key, peer, null, null);
    }
    return new Comparison(key, peer, ratio(meridian.median(), other.median()),
        ratio(meridian.latency(P99), other.latency(P99)));
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
