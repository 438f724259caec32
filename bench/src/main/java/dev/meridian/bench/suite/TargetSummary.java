package dev.meridian.bench.suite;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * One target's repetitions of one scenario, summarized: the median of the non-null values (an even
 * count takes the mean of the middle two; null when there is none), the median of each latency
 * percentile, CPU share and work per CPU-second, the errors summed, and the worst status.
 *
 * @param reps the measurements ordered by repetition number
 */
record TargetSummary(String target, List<Measurement> reps, Double median, Map<String, Double> latencyMs,
    Long errors, Double proxyCpuPct, Double perCpuS, Double otherLoadPct, String status, Set<String> notes) {

  /** Statuses from the least to the most severe; a word not listed is the most severe. */
  private static final List<String> SEVERITY = List.of("ok", "skipped", "errors", "failed", "died");

  static TargetSummary of(String target, List<Measurement> measurements) {
    List<Measurement> reps = measurements.stream().sorted(Comparator.comparingInt(Measurement::rep)).toList();
    Map<String, Double> latency = new TreeMap<>(Measurement.BY_PERCENTILE);
    reps.stream().flatMap(m -> m.latencyMs().keySet().stream()).distinct()
        .forEach(p -> latency.put(p, median(reps, m -> m.latencyMs().get(p))));
    List<Long> errors = reps.stream().map(Measurement::errors).filter(Objects::nonNull).toList();
    Set<String> notes = new LinkedHashSet<>();
    reps.stream().map(Measurement::note).filter(Objects::nonNull).forEach(notes::add);
    return new TargetSummary(target, reps, median(reps, Measurement::value), latency,
        errors.isEmpty() ? null : errors.stream().mapToLong(Long::longValue).sum(),
        median(reps, Measurement::proxyCpuPct), median(reps, Measurement::perCpuS),
        median(reps, Measurement::otherLoadPct), worstStatus(reps), notes);
  }

  /** The median latency at a percentile ("99"), or null. */
  Double latency(String percentile) {
    return latencyMs.get(percentile);
  }

  static Double median(List<Measurement> reps, Function<Measurement, Double> field) {
    List<Double> sorted = new ArrayList<>();
    reps.stream().map(field).filter(Objects::nonNull).forEach(sorted::add);
    sorted.sort(null);
    int n = sorted.size();
    if (n == 0) {
      return null;
    }
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String worstStatus(List<Measurement> reps) {
    return reps.stream().map(Measurement::status).max(Comparator.comparingInt(TargetSummary::severity)).orElse("ok");
  }

  private static int severity(String status) {
    int rank = SEVERITY.indexOf(status.toLowerCase(Locale.ROOT));
    return rank >= 0 ? rank : SEVERITY.size();
  }
}
