package dev.meridian.balancer;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a group spreads requests over regions: the failover order for each client region, when to
 * spill to the next region, the latency margin for leaving the preferred one, the writer region and
 * the panic threshold.
 *
 * @param failover       client region to the ordered regions it uses; key {@code default} for others;
 *                       empty: client region, then {@code localRegion}, then all by measured latency
 * @param spillOver      overprovisioning factor (default 1.4): a region keeps all its traffic while its
 *                       healthy fraction x this >= 1, the rest spills to the next region in order
 * @param latencyMarginNanos leave the preferred region when its latency exceeds the next one's by more
 *                       than this (0: off; peak-ewma groups only); come back below half of it
 * @param writer         region that takes non-idempotent requests, if any
 * @param localRegion    this instance's region ({@code meridian.region}), if any
 * @param panicThreshold when fewer than this fraction of the group's backends are healthy (default
 *                       0.5), route across all of them regardless of health
 */
public record RegionPolicy(
    Map<String, List<String>> failover,
    double spillOver,
    long latencyMarginNanos,
    Optional<String> writer,
    Optional<String> localRegion,
    double panicThreshold) {

  /** Default spill-over factor (Envoy's overprovisioning factor). */
  public static final double DEFAULT_SPILL_OVER = 1.4;
  /** Default panic threshold: half the group. */
  public static final double DEFAULT_PANIC_THRESHOLD = 0.5;

  /** Validates the numbers and copies the failover table. */
  public RegionPolicy {
    failover = Map.copyOf(failover);
    if (spillOver < 1.0) {
      throw new IllegalArgumentException("spill-over: " + spillOver + " (expected: >= 1.0)");
    }
    if (panicThreshold < 0 || panicThreshold > 1) {
      throw new IllegalArgumentException("panic-threshold: " + panicThreshold + " (expected: 0.0-1.0)");
    }
  }

  /** No failover table, default spill-over and panic threshold, no writer. */
  public static RegionPolicy defaults(Optional<String> localRegion) {
    return new RegionPolicy(Map.of(), DEFAULT_SPILL_OVER, 0, Optional.empty(), localRegion,
        DEFAULT_PANIC_THRESHOLD);
  }
}
