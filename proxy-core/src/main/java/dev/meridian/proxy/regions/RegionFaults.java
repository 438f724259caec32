package dev.meridian.proxy.regions;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The faults injected into one backend group's regions, set and cleared through the admin API. Held
 * in memory only, so a restart clears them; kept by group name across configuration reloads.
 * Thread-safe; {@link #of} is a map lookup.
 */
public final class RegionFaults {
  private final ConcurrentHashMap<String, RegionFault> byRegion = new ConcurrentHashMap<>();

  /** The fault injected into a region now, or null. */
  public RegionFault of(String region) {
    return byRegion.isEmpty() ? null : byRegion.get(region);
  }

  /** Injects a fault into a region, replacing any other. */
  public void set(String region, RegionFault fault) {
    byRegion.put(region, fault);
  }

  /** Stops injecting into a region; returns whether a fault was there. */
  public boolean clear(String region) {
    return byRegion.remove(region) != null;
  }

  /** Every injected fault, by region. */
  public Map<String, RegionFault> all() {
    return Map.copyOf(byRegion);
  }
}
