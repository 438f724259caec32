package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendStats;
import dev.meridian.balancer.RegionalSelector;
import dev.meridian.proxy.metrics.ProxyMetrics;
import dev.meridian.proxy.regions.RegionCounters;

/**
 * What the per-backend and per-region meters read at each scrape, looked up through the routing in
 * force, so a reload that replaces a group's selector, stats or detectors is followed (and a group a
 * reload removed reads as NaN or 0).
 */
final class MeterReadings {
  private MeterReadings() {}

  private static GroupRuntime runtime(ProxyContext context, String group) {
    return context.routing().groups().get(group);
  }

  /** A backend's load, ejections and active checks. */
  static final class OfBackend implements ProxyMetrics.BackendReadings {
    private final ProxyContext context;
    private final String group;
    private final Backend backend;

    OfBackend(ProxyContext context, String group, Backend backend) {
      this.context = context;
      this.group = group;
      this.backend = backend;
    }

    private BackendStats stats() {
      GroupRuntime runtime = runtime(context, group);
      return runtime == null ? null : runtime.stats().of(backend);
    }

    @Override
    public double ewmaSeconds() {
      BackendStats stats = stats();
      return stats == null || !stats.hasSample() ? Double.NaN : stats.costNanos() / 1e9;
    }

    @Override
    public double inFlight() {
      BackendStats stats = stats();
      return stats == null ? 0 : stats.inFlight();
    }

    @Override
    public double ejections() {
      GroupRuntime runtime = runtime(context, group);
      return runtime == null ? 0 : runtime.outliers().totalEjections(backend.id());
    }

    @Override
    public double checks(boolean passed) {
      GroupRuntime runtime = runtime(context, group);
      return runtime == null || runtime.checker() == null ? 0 : runtime.checker().checks(backend.id(), passed);
    }

    @Override
    public double stickyRequests(boolean newPin) {
      BackendStats stats = stats();
      return stats == null ? 0 : newPin ? stats.newPins() : stats.pinnedRequests();
    }
  }

  /** A region's dial, panic state and traffic. */
  static final class OfRegion implements ProxyMetrics.RegionReadings {
    private final ProxyContext context;
    private final String group;
    private final String region;

    OfRegion(ProxyContext context, String group, String region) {
      this.context = context;
      this.group = group;
      this.region = region;
    }

    private RegionalSelector selector() {
      GroupRuntime runtime = runtime(context, group);
      return runtime == null ? null : runtime.selector();
    }

    private RegionCounters counters() {
      GroupRuntime runtime = runtime(context, group);
      return runtime == null ? null : runtime.traffic().all().get(region);
    }

    @Override
    public double dial() {
      RegionalSelector selector = selector();
      Integer dial = selector == null ? null : selector.dials().get(region);
      return dial == null ? Double.NaN : dial;
    }

    @Override
    public double panic() {
      RegionalSelector selector = selector();
      return selector != null && selector.panicking().contains(region) ? 1 : 0;
    }

    @Override
    public double requests() {
      RegionCounters counters = counters();
      return counters == null ? 0 : counters.requests();
    }

    @Override
    public double errors() {
      RegionCounters counters = counters();
      return counters == null ? 0 : counters.errors();
    }
  }

  /**
   * Registers the meters of each group, its backends and regions; they read the routing in force
   * when scraped (a reload's groups replace these).
   */
  static void register(ProxyContext context, java.util.Map<String, GroupRuntime> runtimes,
      java.util.function.Function<String, dev.meridian.health.HealthRegistry> health) {
    runtimes.forEach((name, runtime) -> {
      context.metrics.registerGroup(name, () -> context.routing().groups().containsKey(name)
          ? context.routing().groups().get(name).selector().panicPicks() : 0);
      if (runtime.slots() != null) {
        context.metrics.registerBackendQueue(name, () -> {
          GroupRuntime now = context.routing().groups().get(name);
          return now != null && now.slots() != null ? now.slots().queued() : 0;
        });
      }
      runtime.group().backends().forEach(b -> {
        context.metrics.registerBackendHealth(name, b, health.apply(name));
        context.metrics.registerBackend(name, b, new MeterReadings.OfBackend(context, name, b));
      });
      for (String region : runtime.selector().regions()) {
        context.metrics.registerRegion(name, region, new MeterReadings.OfRegion(context, name, region));
      }
    });
  }
}
