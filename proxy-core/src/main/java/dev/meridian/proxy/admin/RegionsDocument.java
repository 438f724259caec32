package dev.meridian.proxy.admin;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.BackendStats;
import dev.meridian.balancer.GroupStats;
import dev.meridian.balancer.RegionalSelector;
import dev.meridian.health.HealthRegistry;
import dev.meridian.proxy.regions.LatencyBuckets;
import dev.meridian.proxy.regions.RegionCounters;
import dev.meridian.proxy.regions.RegionFault;
import dev.meridian.proxy.server.OperatorControls;
import dev.meridian.proxy.server.ProxyServer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds {@code /admin/api/regions}: per group, the regions in order, their dials, which failover
 * orders are in panic, and per region its backends (available, operator-ejected), requests in flight,
 * injected fault, the cumulative requests, errors by kind and latency histogram a drill reads, and
 * the last minute's request rate, share of the group's requests, p50 and p99.
 */
final class RegionsDocument {
  private RegionsDocument() {}

  static Map<String, Object> build(ProxyServer proxy, RegionHistory history) {
    Map<String, Object> out = new LinkedHashMap<>();
    Map<String, Long> overrides = proxy.operator().overrides().remainingMillis();
    proxy.selectors().forEach((group, selector) -> {
      // A reload between reading the selectors and the groups may remove a group: leave it out.
      if (proxy.groups().containsKey(group) && proxy.stats().containsKey(group)) {
        out.put(group, group(proxy, history, group, selector, overrides));
      }
    });
    return out;
  }

  private static Map<String, Object> group(ProxyServer proxy, RegionHistory history, String name,
      RegionalSelector selector, Map<String, Long> overrides) {
    BackendGroup group = proxy.groups().get(name);
    GroupStats stats = proxy.stats().get(name);
    HealthRegistry health = proxy.health(name);
    Map<String, RegionFault> faults = proxy.faults(name);
    Map<String, RegionCounters> traffic = proxy.traffic(name);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("regions", selector.regions());
    m.put("dials", selector.dials());
    m.put("panicking", selector.panicking());
    Map<String, Object> byRegion = new LinkedHashMap<>();
    double groupRate = 0;
    for (String region : selector.regions()) {
      groupRate += history.lastMinute(name, region).requestsPerSecond();
    }
    for (String region : selector.regions()) {
      Map<String, Object> r = new LinkedHashMap<>();
      List<Backend> members = group.backends().stream().filter(b -> b.region().equals(region)).toList();
      r.put("dial", selector.dials().get(region));
      r.put("backends", members.size());
      r.put("available", members.stream().filter(health::isAvailable).count());
      r.put("operator-ejected", members.stream().filter(b -> health.reasons(b.id()).containsKey(OperatorControls.OPERATOR)
          || health.reasons(b.id()).containsKey(OperatorControls.OPERATOR_REGION)).count());
      r.put("region-ejected", members.stream()
          .anyMatch(b -> health.reasons(b.id()).containsKey(OperatorControls.OPERATOR_REGION)));
      r.put("in-flight", members.stream().map(stats::of).filter(java.util.Objects::nonNull)
          .mapToInt(BackendStats::inFlight).sum());
      RegionFault fault = faults.get(region);
      r.put("fault", fault == null ? null : fault(fault));
      r.putAll(counters(traffic.get(region)));
      RegionHistory.Rates minute = history.lastMinute(name, region);
      Map<String, Object> lastMinute = new LinkedHashMap<>();
      lastMinute.put("requests-per-second", Math.round(minute.requestsPerSecond() * 10) / 10.0);
      lastMinute.put("share", groupRate == 0 ? 0.0 : Math.round(1000 * minute.requestsPerSecond() / groupRate) / 1000.0);
      lastMinute.put("p50-ms", minute.p50Millis());
      lastMinute.put("p99-ms", minute.p99Millis());
      r.put("last-minute", lastMinute);
      byRegion.put(region, r);
    }
    RegionCounters none = traffic.get(dev.meridian.proxy.regions.RegionTraffic.NO_REGION);
    if (none != null) {
      byRegion.put(dev.meridian.proxy.regions.RegionTraffic.NO_REGION, counters(none));
    }
    m.put("by-region", byRegion);
    Map<String, Long> limits = new LinkedHashMap<>();
    overrides.forEach((key, left) -> {
      if (key.contains(" " + name + "/")) {
        limits.put(key, left);
      }
    });
    m.put("time-limits-ms", limits);
    return m;
  }

  private static Map<String, Object> fault(RegionFault fault) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("delay-ms", fault.delayNanos() / 1_000_000);
    f.put("abort-status", fault.abortStatus());
    f.put("abort-percent", fault.abortFraction() * 100);
    f.put("description", fault.describe());
    return f;
  }

  private static Map<String, Object> counters(RegionCounters c) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("picked", c == null ? 0 : c.pickedCount());
    r.put("requests", c == null ? 0 : c.requests());
    r.put("errors", c == null ? 0 : c.errors());
    r.put("errors-by-kind", c == null ? Map.of() : c.errorsByKind());
    long[] buckets = c == null ? new long[LatencyBuckets.BOUNDS_MS.length + 1] : c.latencyBuckets();
    Map<String, Long> latency = new LinkedHashMap<>();
    for (int i = 0; i < buckets.length; i++) {
      latency.put(i < LatencyBuckets.BOUNDS_MS.length ? trim(LatencyBuckets.BOUNDS_MS[i]) : "+Inf", buckets[i]);
    }
    r.put("latency-buckets-ms", latency);
    return r;
  }

  private static String trim(double bound) {
    return bound == Math.rint(bound) ? Long.toString((long) bound) : Double.toString(bound);
  }
}
