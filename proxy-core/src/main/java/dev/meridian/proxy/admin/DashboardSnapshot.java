package dev.meridian.proxy.admin;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.BackendStats;
import dev.meridian.balancer.GroupStats;
import dev.meridian.balancer.RegionalSelector;
import dev.meridian.health.HealthRegistry;
import dev.meridian.proxy.server.ProxyServer;
import dev.meridian.proxy.server.RecentDecisions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds what the dashboard shows each second ({@code /admin/api/dashboard}, and each event of
 * {@code /admin/api/stream}): per group, each region's card (backends available, dial, panic, share
 * of the group's requests, requests and errors per second, p50 and p99 over the last second and the
 * last minute, EWMA cost, in flight), the backends table, the failover order per client region,
 * optionally each region's share and p99 second by second over the last minute; and
 * the recent routing decisions.
 */
final class DashboardSnapshot {
  private DashboardSnapshot() {}

  /**
   * The snapshot; {@code withHistory} adds each group's {@code history}: per region, its share and
   * p99 in each second of the last minute (a page that just opened draws its charts from it).
   */
  static Map<String, Object> build(ProxyServer proxy, RegionHistory history, long epochMillis, boolean withHistory) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("time", epochMillis);
    Map<String, Object> groups = new LinkedHashMap<>();
    proxy.selectors().forEach((name, selector) -> {
      BackendGroup group = proxy.groups().get(name);
      GroupStats stats = proxy.stats().get(name);
      if (group != null && stats != null) {
        Map<String, Object> g = group(proxy, history, group, selector, stats);
        if (withHistory) {
          g.put("history", history(history, name, selector.regions()));
        }
        groups.put(name, g);
      }
    });
    out.put("groups", groups);
    List<Object> decisions = new ArrayList<>();
    for (RecentDecisions.Decision d : proxy.recentDecisions().newestFirst()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("time", d.epochMillis());
      m.put("method", d.method());
      m.put("path", d.path());
      m.put("client-region", d.clientRegion());
      m.put("route", d.route());
      m.put("group", d.group());
      m.put("region", d.region());
      m.put("backend", d.backend());
      m.put("status", d.status());
      m.put("ms", Math.round(d.millis() * 10) / 10.0);
      m.put("why", d.why());
      decisions.add(m);
    }
    out.put("decisions", decisions);
    return out;
  }

  private static Map<String, Object> group(ProxyServer proxy, RegionHistory history, BackendGroup group,
      RegionalSelector selector, GroupStats stats) {
    String name = group.name();
    HealthRegistry health = proxy.health(name);
    Map<String, Integer> dials = selector.dials();
    List<String> panicking = selector.panicking();
    double total = 0;
    for (String region : selector.regions()) {
      total += history.lastSecond(name, region).requestsPerSecond();
    }
    List<Object> regions = new ArrayList<>();
    for (String region : selector.regions()) {
      List<Backend> members = group.backends().stream().filter(b -> b.region().equals(region)).toList();
      RegionHistory.Rates second = history.lastSecond(name, region);
      RegionHistory.Rates minute = history.lastMinute(name, region);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("name", region);
      r.put("backends", members.size());
      r.put("available", members.stream().filter(health::isAvailable).count());
      r.put("dial", dials.get(region));
      r.put("panic", panicking.contains(region));
      r.put("share", total == 0 ? 0.0 : round(second.requestsPerSecond() / total, 3));
      r.put("rps", round(second.requestsPerSecond(), 1));
      r.put("errors-per-second", round(second.errorsPerSecond(), 1));
      r.put("p50-ms", round(second.p50Millis(), 1));
      r.put("p99-ms", round(second.p99Millis(), 1));
      r.put("p50-ms-1m", round(minute.p50Millis(), 1));
      r.put("p99-ms-1m", round(minute.p99Millis(), 1));
      r.put("ewma-ms", round(members.stream().map(stats::of).filter(s -> s != null && s.hasSample())
          .mapToDouble(BackendStats::costNanos).min().orElse(Double.NaN) / 1e6, 1));
      r.put("in-flight", members.stream().map(stats::of).filter(java.util.Objects::nonNull)
          .mapToInt(BackendStats::inFlight).sum());
      regions.add(r);
    }
    List<Object> backends = new ArrayList<>();
    for (Backend b : group.backends()) {
      BackendStats s = stats.of(b);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", b.id());
      m.put("region", b.region());
      m.put("address", b.authority());
      m.put("available", health.isAvailable(b));
      m.put("out-reasons", new ArrayList<>(health.reasons(b.id()).keySet()));
      m.put("ewma-ms", s == null || !s.hasSample() ? null : round(s.costNanos() / 1e6, 1));
      m.put("in-flight", s == null ? 0 : s.inFlight());
      m.put("rps", round(history.backendResponsesPerSecond(name, b.id()), 1));
      backends.add(m);
    }
    Map<String, Object> failover = new LinkedHashMap<>();
    for (String client : selector.regions()) {
      failover.put(client, selector.failoverOrder(client));
    }
    failover.put("unknown", selector.failoverOrder(null));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("regions", regions);
    m.put("backends", backends);
    m.put("failover", failover);
    return m;
  }

  private static Map<String, Object> history(RegionHistory history, String group, List<String> regions) {
    Map<String, List<RegionHistory.Rates>> byRegion = new LinkedHashMap<>();
    for (String region : regions) {
      byRegion.put(region, history.perSecond(group, region));
    }
    int seconds = byRegion.values().stream().mapToInt(List::size).min().orElse(0);
    Map<String, Object> out = new LinkedHashMap<>();
    for (String region : regions) {
      List<Double> share = new ArrayList<>(seconds);
      List<Double> p99 = new ArrayList<>(seconds);
      for (int i = 0; i < seconds; i++) {
        double total = 0;
        for (List<RegionHistory.Rates> series : byRegion.values()) {
          total += series.get(i).requestsPerSecond();
        }
        RegionHistory.Rates rates = byRegion.get(region).get(i);
        share.add(total == 0 ? 0.0 : round(rates.requestsPerSecond() / total, 3));
        p99.add(round(rates.p99Millis(), 1));
      }
      Map<String, Object> series = new LinkedHashMap<>();
      series.put("share", share);
      series.put("p99-ms", p99);
      out.put(region, series);
    }
    return out;
  }

  private static double round(double value, int decimals) {
    double scale = Math.pow(10, decimals);
    return Double.isFinite(value) ? Math.round(value * scale) / scale : Double.NaN;
  }
}
