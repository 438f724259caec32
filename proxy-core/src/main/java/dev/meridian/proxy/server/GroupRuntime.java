package dev.meridian.proxy.server;

import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.GroupStats;
import dev.meridian.balancer.RegionalSelector;
import dev.meridian.health.ActiveHealthChecker;
import dev.meridian.health.OutlierDetector;
import dev.meridian.proxy.config.MeridianSettings.BackendGroupSettings;
import dev.meridian.proxy.regions.RegionFaults;
import dev.meridian.proxy.regions.RegionTraffic;
import dev.meridian.proxy.upstream.BackendLink;
import dev.meridian.proxy.upstream.BackendSlots;
import dev.meridian.proxy.upstream.UpstreamProtocol;
import java.util.Optional;

/**
 * One backend group as the proxy runs it: its regional selector, the latency and load statistics the
 * proxy feeds, and the per-request settings (hash key, writer, read-your-writes window).
 *
 * @param group          the group
 * @param selector       picks region then backend (for writes, and for reads without a lag limit)
 * @param readSelector   picks for reads: skips backends over the replication-lag limit
 * @param outliers       passive outlier detection, fed with every outcome
 * @param checker        active health checks, or null when none are configured
 * @param stats          latency EWMA and in-flight per backend
 * @param hashKey        where consistent hashing takes its key: {@code header:NAME}, {@code cookie:NAME},
 *                       {@code client-address}
 * @param writer         the writer region, if any
 * @param readYourWritesMillis read-your-writes window in milliseconds, 0 when off
 * @param protocol       the HTTP version spoken to the group's backends
 * @param traffic        requests and errors per region (kept across reloads)
 * @param faults         faults a drill injects per region (kept across reloads)
 * @param sticky         how sticky sessions name the group's backends and regions
 * @param slots          requests each backend is sent at once and the queue for full ones, or null
 *                       when the group sets no limit
 * @param queueTimeoutNanos how long a request waits for a full backend's slot
 * @param link           how the group's backends are spoken to (protocol, TLS, PROXY protocol), kept
 *                       with the group so that its requests in flight across a reload that removed
 *                       it still reach its backends as before
 */
record GroupRuntime(BackendGroup group, RegionalSelector selector, RegionalSelector readSelector,
    GroupStats stats, OutlierDetector outliers, ActiveHealthChecker checker, String hashKey,
    Optional<String> writer, long readYourWritesMillis, UpstreamProtocol protocol, RegionTraffic traffic,
    RegionFaults faults, StickyTargets sticky, BackendSlots slots, long queueTimeoutNanos, BackendLink link) {

  static GroupRuntime of(BackendGroup group, RegionalSelector selector, RegionalSelector readSelector,
      GroupStats stats, OutlierDetector outliers, ActiveHealthChecker checker, BackendGroupSettings settings,
      RegionTraffic traffic, RegionFaults faults, StickyTargets sticky, BackendSlots slots, BackendLink link) {
    return new GroupRuntime(group, selector, readSelector, stats, outliers, checker,
        "consistent-hash".equals(settings.strategy()) ? settings.hash().key() : null,
        settings.regions().writer(), settings.regions().readYourWrites().toMillis(), settings.protocol(),
        traffic, faults, sticky, slots, settings.limits().queueTimeout().toNanos(), link);
  }

  /** The selector for a request: reads skip backends whose replication lag is over the limit. */
  RegionalSelector selectorFor(boolean write) {
    return write ? selector : readSelector;
  }

  /** Sets a region's traffic dial on both selectors. */
  void setDial(String region, int percent) {
    selector.setDial(region, percent);
    if (readSelector != selector) {
      readSelector.setDial(region, percent);
    }
  }
}
