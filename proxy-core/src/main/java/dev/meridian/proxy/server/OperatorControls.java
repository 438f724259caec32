package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.health.HealthRegistry;
import dev.meridian.proxy.regions.OperatorOverrides;
import dev.meridian.proxy.regions.RegionFault;
import dev.meridian.proxy.regions.RegionFaults;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operators' run-time changes to a running proxy: region dials, region and backend ejections, and
 * injected faults, each optionally time-limited (undone by {@link #sweep()} once its time passes).
 * The admin API and drills call it; every change is logged. Changes are serialized with the sweep.
 */
public final class OperatorControls {
  private static final Logger log = LoggerFactory.getLogger(OperatorControls.class);
  /** The owner name of an operator's mark on one backend in the health registries. */
  public static final String OPERATOR = "operator";
  /** The owner name of the marks a region ejection puts on each of the region's backends. */
  public static final String OPERATOR_REGION = "operator-region";
  /** The owner name of the mark that takes a backend out once its drain time is over. */
  public static final String DRAINED = "drained";

  private final Object lock = new Object();
  private final ProxyContext context;
  private final Map<String, HealthRegistry> healthByGroup;
  private final Map<String, RegionFaults> faultsByGroup;
  private final OperatorOverrides overrides;

  OperatorControls(ProxyContext context, Map<String, HealthRegistry> healthByGroup,
      Map<String, RegionFaults> faultsByGroup, OperatorOverrides overrides) {
    this.context = context;
    this.healthByGroup = healthByGroup;
    this.faultsByGroup = faultsByGroup;
    this.overrides = overrides;
  }

  /** Undoes the time-limited changes whose time has passed. */
  void sweep() {
    synchronized (lock) {
      overrides.sweep();
    }
  }

  /**
   * Sets a region's traffic dial in a group; with a positive {@code ttl} the previous dial comes back
   * after it.
   *
   * @throws IllegalArgumentException for an unknown group or region, or a percentage outside 0-100
   */
  public void setDial(String group, String region, int percent, Duration ttl) {
    synchronized (lock) {
      setDialLocked(group, region, percent, ttl);
    }
  }

  private void setDialLocked(String group, String region, int percent, Duration ttl) {
    GroupRuntime runtime = runtime(group);
    int previous = runtime.selector().dials().getOrDefault(region, 100);
    runtime.setDial(region, percent);
    String key = "dial " + group + "/" + region;
    log.info("operator: dial of region {} in group '{}' set to {}%{}", region, group, percent, until(ttl));
    limit(key, ttl, () -> {
      GroupRuntime now = context.routing().groups().get(group);
      if (now != null && now.selector().regions().contains(region)) {
        now.setDial(region, previous);
        log.info("operator: dial of region {} in group '{}' back to {}% (time limit passed)", region, group, previous);
      }
    });
  }

  /** Sets a region's traffic dial in a group with no time limit. */
  public void setDial(String group, String region, int percent) {
    setDial(group, region, percent, Duration.ZERO);
  }

  /**
   * Takes every backend of a region out of a group's rotation (an {@code operator} mark, shown in the
   * admin API); with a positive {@code ttl} they come back after it.
   *
   * @return how many backends were marked out
   * @throws IllegalArgumentException for an unknown group or region
   */
  public int ejectRegion(String group, String region, Duration ttl) {
    synchronized (lock) {
      List<Backend> members = regionMembers(group, region);
      HealthRegistry health = health(group);
      members.forEach(b -> health.markOut(b.id(), OPERATOR_REGION, "region " + region + " ejected by an operator"));
      log.warn("operator: region {} of group '{}' ejected ({} backends){}", region, group, members.size(), until(ttl));
      limit("eject " + group + "/region/" + region, ttl, () -> {
        members.forEach(b -> health.clear(b.id(), OPERATOR_REGION));
        log.info("operator: region {} of group '{}' restored (time limit passed)", region, group);
      });
      return members.size();
    }
  }

  /**
   * Withdraws a region ejection's marks from its backends (a backend ejected on its own stays out);
   * returns how many backends the region has.
   */
  public int restoreRegion(String group, String region) {
    synchronized (lock) {
      List<Backend> members = regionMembers(group, region);
      HealthRegistry health = health(group);
      members.forEach(b -> health.clear(b.id(), OPERATOR_REGION));
      overrides.forget("eject " + group + "/region/" + region);
      log.info("operator: region {} of group '{}' restored", region, group);
      return members.size();
    }
  }

  /** Takes one backend out of a group's rotation; with a positive {@code ttl} it comes back after it. */
  public void ejectBackend(String group, String backendId, Duration ttl) {
    synchronized (lock) {
      Backend backend = member(group, backendId);
      HealthRegistry health = health(group);
      health.markOut(backend.id(), OPERATOR, "ejected by an operator");
      log.warn("operator: backend {} of group '{}' ejected{}", backend, group, until(ttl));
      limit("eject " + group + "/backend/" + backendId, ttl, () -> {
        health.clear(backend.id(), OPERATOR);
        log.info("operator: backend {} of group '{}' restored (time limit passed)", backend, group);
      });
    }
  }

  /**
   * Withdraws the operator's own mark from a backend and ends a passive (outlier) ejection of it; a
   * region ejection's mark and a failing active check's stay.
   */
  public void restoreBackend(String group, String backendId) {
    synchronized (lock) {
      Backend backend = member(group, backendId);
      health(group).clear(backend.id(), OPERATOR);
      runtime(group).outliers().reinstate(backend);
      overrides.forget("eject " + group + "/backend/" + backendId);
      log.info("operator: backend {} of group '{}' restored", backend, group);
    }
  }

  /**
   * Drains one backend: it gets no new requests (nor new sticky sessions), while the sessions already
   * pinned to it keep reaching it for {@code duration}; then it is out until {@link #undrainBackend}.
   * A zero duration keeps its sessions until it is undrained.
   */
  public void drainBackend(String group, String backendId, Duration duration) {
    synchronized (lock) {
      Backend backend = member(group, backendId);
      HealthRegistry health = health(group);
      boolean limited = !duration.isZero() && !duration.isNegative();
      health.markOut(backend.id(), HealthRegistry.DRAINING, "draining: keeps its sticky sessions"
          + (limited ? " for " + duration.toMillis() + " ms" : " until undrained") + ", takes no new requests");
      log.warn("operator: backend {} of group '{}' draining{}", backend, group, limited
          ? " for " + duration.toMillis() + " ms, then out" : " until undrained");
      limit("drain " + group + "/backend/" + backendId, duration, () -> {
        health.markOut(backend.id(), DRAINED, "drained by an operator");
        log.warn("operator: backend {} of group '{}' drained: out until undrained (drain time over)", backend, group);
      });
    }
  }

  /** Ends a drain: the backend takes new requests again (other marks, an ejection say, stay). */
  public void undrainBackend(String group, String backendId) {
    synchronized (lock) {
      Backend backend = member(group, backendId);
      HealthRegistry health = health(group);
      health.clear(backend.id(), HealthRegistry.DRAINING);
      health.clear(backend.id(), DRAINED);
      overrides.forget("drain " + group + "/backend/" + backendId);
      log.info("operator: backend {} of group '{}' undrained", backend, group);
    }
  }

  /**
   * The group holding a backend id, for calls that name only the backend.
   *
   * @throws IllegalArgumentException when no group or several groups have a backend with that id
   */
  public String groupOf(String backendId) {
    List<String> holders = context.routing().groups().values().stream()
        .filter(r -> r.group().find(backendId) != null).map(r -> r.group().name()).sorted().toList();
    if (holders.size() != 1) {
      throw new IllegalArgumentException("backend: '" + backendId + "' " + (holders.isEmpty()
          ? "is in no group" : "is in groups " + holders + "; name one: /admin/api/backends/GROUP/" + backendId + "/...")
          + " (expected: a backend id of exactly one group)");
    }
    return holders.get(0);
  }

  /**
   * Injects a fault into the requests a group forwards to a region (replacing any other); with a
   * positive {@code ttl} it is cleared after it. Faults live in memory: a restart clears them.
   */
  public void injectFault(String group, String region, RegionFault fault, Duration ttl) {
    synchronized (lock) {
      injectFaultLocked(group, region, fault, ttl);
    }
  }

  private void injectFaultLocked(String group, String region, RegionFault fault, Duration ttl) {
    regionMembers(group, region);
    RegionFaults faults = faultsByGroup.computeIfAbsent(group, n -> new RegionFaults());
    faults.set(region, fault);
    log.warn("operator: fault injected into region {} of group '{}': {}{}", region, group, fault.describe(), until(ttl));
    limit("fault " + group + "/" + region, ttl, () -> {
      if (faults.clear(region)) {
        log.info("operator: fault in region {} of group '{}' cleared (time limit passed)", region, group);
      }
    });
  }

  /** Stops injecting a fault into a region; returns whether there was one. */
  public boolean clearFault(String group, String region) {
    synchronized (lock) {
      regionMembers(group, region);
      overrides.forget("fault " + group + "/" + region);
      boolean was = faultsByGroup.computeIfAbsent(group, n -> new RegionFaults()).clear(region);
      log.info("operator: fault in region {} of group '{}' cleared", region, group);
      return was;
    }
  }

  /** The time limits on operators' changes, for the admin API. */
  public OperatorOverrides overrides() {
    return overrides;
  }

  private void limit(String key, Duration ttl, Runnable undo) {
    if (ttl.isZero() || ttl.isNegative()) {
      overrides.forget(key);
    } else {
      overrides.limit(key, ttl.toNanos(), undo);
    }
  }

  private static String until(Duration ttl) {
    return ttl.isZero() || ttl.isNegative() ? "" : " for " + ttl.toMillis() + " ms";
  }

  private GroupRuntime runtime(String group) {
    GroupRuntime runtime = context.routing().groups().get(group);
    if (runtime == null) {
      throw new IllegalArgumentException("group: '" + group + "' (expected: one of "
          + context.routing().groups().keySet() + ")");
    }
    return runtime;
  }

  private List<Backend> regionMembers(String group, String region) {
    GroupRuntime runtime = runtime(group);
    List<Backend> members = runtime.group().backends().stream().filter(b -> b.region().equals(region)).toList();
    if (members.isEmpty()) {
      throw new IllegalArgumentException("region: '" + region + "' (expected: one of "
          + runtime.selector().regions() + ")");
    }
    return members;
  }

  private Backend member(String group, String backendId) {
    GroupRuntime runtime = runtime(group);
    return runtime.group().backends().stream().filter(b -> b.id().equals(backendId)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("backend: '" + backendId + "' (expected: one of "
            + runtime.group().backends().stream().map(Backend::id).toList() + ")"));
  }

  private HealthRegistry health(String group) {
    return healthByGroup.computeIfAbsent(group, g -> new HealthRegistry());
  }
}
