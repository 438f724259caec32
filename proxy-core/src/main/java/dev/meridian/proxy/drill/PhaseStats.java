package dev.meridian.proxy.drill;

import dev.meridian.proxy.regions.LatencyBuckets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * What clients saw in one phase of a drill (baseline, during, after): requests, errors by kind,
 * latency, and how the group's requests spread over its regions. Latency comes from the drill's own
 * load (an HdrHistogram, exact to 3 digits) or, when watching live traffic, from the admin API's
 * per-region buckets (interpolated like Prometheus' {@code histogram_quantile}).
 */
final class PhaseStats {
  final String name;
  long fromMillis;
  long toMillis;
  long requests;
  final Map<String, Long> errorsByKind = new TreeMap<>();
  /** Requests sent to each region in the phase (picks, retries included). */
  final Map<String, Long> regionPicks = new LinkedHashMap<>();
  private final Histogram histogram = new Histogram(600_000_000L, 3);
  private long[] buckets = new long[LatencyBuckets.BOUNDS_MS.length + 1];
  private boolean fromHistogram;

  PhaseStats(String name, long fromMillis) {
    this.name = name;
    this.fromMillis = fromMillis;
    this.toMillis = fromMillis;
  }

  void addLatencies(Histogram interval) {
    fromHistogram = true;
    histogram.add(interval);
  }

  void addBuckets(long[] delta) {
    for (int i = 0; i < buckets.length && i < delta.length; i++) {
      buckets[i] += delta[i];
    }
  }

  void addErrors(Map<String, Long> delta) {
    delta.forEach((k, v) -> {
      if (v > 0) {
        errorsByKind.merge(k, v, Long::sum);
      }
    });
  }

  void addRegionPicks(Map<String, Long> delta) {
    delta.forEach((k, v) -> regionPicks.merge(k, v, Long::sum));
  }

  long errors() {
    return errorsByKind.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The region's share of the group's requests in this phase, 0-1 (NaN without requests). */
  double share(String region) {
    long total = regionPicks.values().stream().mapToLong(Long::longValue).sum();
    return total == 0 ? Double.NaN : (double) regionPicks.getOrDefault(region, 0L) / total;
  }

  /** The {@code q} latency quantile in milliseconds, NaN without requests. */
  double quantileMillis(double q) {
    if (fromHistogram) {
      return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(q * 100) / 1000.0;
    }
    return LatencyBuckets.quantileMillis(buckets, q);
  }
}
