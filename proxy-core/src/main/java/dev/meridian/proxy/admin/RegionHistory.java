package dev.meridian.proxy.admin;

import dev.meridian.proxy.regions.LatencyBuckets;
import dev.meridian.proxy.regions.RegionCounters;
import dev.meridian.proxy.server.ProxyServer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Samples every group's per-region counters once a second and keeps a minute of samples, so the
 * admin API and the dashboard can say what each region did over the last second and the last
 * minute: requests per second, errors per second, p50 and p99; and each backend's responses per
 * second.
 *
 * <p>Not thread-safe: sampled and read on the admin event loop.
 */
final class RegionHistory {
  /** A region's traffic over a window. */
  record Rates(double requestsPerSecond, double errorsPerSecond, double p50Millis, double p99Millis, long requests) {
    static final Rates NONE = new Rates(0, 0, Double.NaN, Double.NaN, 0);
  }

  /**
   * One second's reading: per group, per region, the cumulative requests, errors and latency buckets;
   * and per backend id, the responses it has given.
   */
  private record Sample(long nanos, Map<String, Map<String, long[]>> counts, Map<String, Long> responses) {}

  private static final int KEPT = 61;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>(KEPT + 1);

  /** Takes one sample of the proxy's region counters (call once a second). */
  void sample(ProxyServer proxy, long nanos) {
    Map<String, Map<String, long[]>> counts = new HashMap<>();
    for (String group : proxy.groups().keySet()) {
      Map<String, long[]> byRegion = new HashMap<>();
      proxy.traffic(group).forEach((region, c) -> byRegion.put(region, read(c)));
      counts.put(group, byRegion);
    }
    Map<String, Long> responses = new HashMap<>();
    proxy.groups().forEach((name, g) -> g.backends().forEach(b ->
        responses.put(name + '\0' + b.id(), proxy.metrics().upstreamResponseTime(name, b.id()).count())));
    samples.addLast(new Sample(nanos, counts, responses));
    while (samples.size() > KEPT) {
      samples.removeFirst();
    }
  }

  private static long[] read(RegionCounters c) {
    long[] buckets = c.latencyBuckets();
    long[] out = new long[buckets.length + 2];
    out[0] = c.requests();
    out[1] = c.errors();
    System.arraycopy(buckets, 0, out, 2, buckets.length);
    return out;
  }

  /** A region's traffic between the last two samples (about the last second). */
  Rates lastSecond(String group, String region) {
    if (samples.size() < 2) {
      return Rates.NONE;
    }
    Iterator<Sample> newest = samples.descendingIterator();
    Sample last = newest.next();
    return between(newest.next(), last, group, region);
  }

  /** A group's backend's responses per second between the last two samples (about the last second). */
  double backendResponsesPerSecond(String group, String backendId) {
    String key = group + '\0' + backendId;
    if (samples.size() < 2) {
      return 0;
    }
    Iterator<Sample> newest = samples.descendingIterator();
    Sample last = newest.next();
    Sample before = newest.next();
    long delta = last.responses().getOrDefault(key, 0L) - before.responses().getOrDefault(key, 0L);
    return delta / Math.max(1e-3, (last.nanos() - before.nanos()) / 1e9);
  }

  /** A region's traffic in each second of the kept minute, oldest first (one entry per pair of samples). */
  java.util.List<Rates> perSecond(String group, String region) {
    java.util.List<Rates> out = new java.util.ArrayList<>(samples.size());
    Sample previous = null;
    for (Sample sample : samples) {
      if (previous != null) {
        out.add(between(previous, sample, group, region));
      }
      previous = sample;
    }
    return out;
  }

  /** A region's traffic between the oldest and newest samples (up to the last minute). */
  Rates lastMinute(String group, String region) {
    if (samples.size() < 2) {
      return Rates.NONE;
    }
    return between(samples.peekFirst(), samples.peekLast(), group, region);
  }

  private static Rates between(Sample from, Sample to, String group, String region) {
    long[] a = from.counts().getOrDefault(group, Map.of()).get(region);
    long[] b = to.counts().getOrDefault(group, Map.of()).get(region);
    if (b == null) {
      return Rates.NONE;
    }
    double seconds = Math.max(1e-3, (to.nanos() - from.nanos()) / 1e9);
    long[] delta = new long[b.length - 2];
    for (int i = 0; i < delta.length; i++) {
      delta[i] = b[i + 2] - (a == null ? 0 : a[i + 2]);
    }
    long requests = b[0] - (a == null ? 0 : a[0]);
    long errors = b[1] - (a == null ? 0 : a[1]);
    return new Rates(requests / seconds, errors / seconds, LatencyBuckets.quantileMillis(delta, 0.5),
        LatencyBuckets.quantileMillis(delta, 0.99), requests);
  }
}
