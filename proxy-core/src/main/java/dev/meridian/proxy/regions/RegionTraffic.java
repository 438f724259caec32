package dev.meridian.proxy.regions;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link RegionCounters} of each region of one backend group, created on first use. Requests
 * answered without a backend (none available) count under {@link #NO_REGION}. Kept by group name
 * across configuration reloads. Thread-safe.
 */
public final class RegionTraffic {
  /** The pseudo-region of requests that no backend was chosen for. */
  public static final String NO_REGION = "none";

  private final ConcurrentHashMap<String, RegionCounters> byRegion = new ConcurrentHashMap<>();

  /** The counters of a region (null means {@link #NO_REGION}). */
  public RegionCounters of(String region) {
    String key = region == null ? NO_REGION : region;
    RegionCounters counters = byRegion.get(key);
    return counters != null ? counters : byRegion.computeIfAbsent(key, r -> new RegionCounters());
  }

  /** Every region's counters so far, by region name. */
  public Map<String, RegionCounters> all() {
    return new LinkedHashMap<>(byRegion);
  }
}
