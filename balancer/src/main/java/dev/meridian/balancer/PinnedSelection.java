package dev.meridian.balancer;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A {@link RegionalSelector}'s sticky pins: the pinned backend when it is usable (available or only
 * draining, not failed in this request, its region allowed and not dialled to 0). Writes bound for
 * the writer region and reads in a read-your-writes window take precedence over a pin elsewhere
 * (overridden, the pin stands). A pin that cannot be honoured is refused when strict, else moved: to
 * another backend of its region when one is usable, or (returning null) to the normal pick along the
 * failover order from its region. Each outcome is recorded in the context.
 *
 * <p>Thread-safe: reads the selector's immutable tables and atomic dials only.
 */
final class PinnedSelection {
  private final String[] regions;
  private final Map<String, Integer> regionIndex;
  private final Backend[][] backendsByRegion;
  private final BackendSelector[] healthySelectors;
  private final AtomicIntegerArray dials;
  private final HealthView health;
  private final RegionPolicy policy;

  PinnedSelection(String[] regions, Map<String, Integer> regionIndex, Backend[][] backendsByRegion,
      BackendSelector[] healthySelectors, AtomicIntegerArray dials, HealthView health, RegionPolicy policy) {
    this.regions = regions;
    this.regionIndex = regionIndex;
    this.backendsByRegion = backendsByRegion;
    this.healthySelectors = healthySelectors;
    this.dials = dials;
    this.health = health;
    this.policy = policy;
  }

  /** The backend for a pinned request, or null (then the context's pin outcome says why). */
  Backend select(SelectionContext context, Backend pinned, Set<String> allowed) {
    Integer index = regionIndex.get(pinned.region());
    if (index == null || !isMember(index, pinned)) {
      return move(context, StickyPin.Reason.GONE, -1, allowed);
    }
    int r = index;
    String writer = policy.writer().orElse(null);
    if (writer != null && !writer.equals(pinned.region())) {
      if (context.isWrite()) {
        context.pinOutcome(StickyPin.Outcome.OVERRIDDEN, StickyPin.Reason.WRITER);
        return null;
      }
      if (context.isReadYourWrites()) {
        context.pinOutcome(StickyPin.Outcome.OVERRIDDEN, StickyPin.Reason.READ_YOUR_WRITES);
        return null;
      }
    }
    StickyPin.Reason reason = null;
    if (allowed != null && !allowed.contains(pinned.region())) {
      reason = StickyPin.Reason.RESIDENCY;
    } else if (context.isExcluded(pinned)) {
      reason = StickyPin.Reason.FAILED;
    } else if (dials.get(r) == 0) {
      reason = StickyPin.Reason.DIALLED_OUT;
    } else if (!health.isAvailableToPinned(pinned)) {
      reason = StickyPin.Reason.UNAVAILABLE;
    }
    if (reason == null) {
      context.pinOutcome(StickyPin.Outcome.HONOURED, null);
      context.explain("sticky " + pinned.id());
      return pinned;
    }
    return move(context, reason, r, allowed);
  }

  private Backend move(SelectionContext context, StickyPin.Reason reason, int region, Set<String> allowed) {
    if (context.isPinStrict()) {
      context.pinOutcome(StickyPin.Outcome.REFUSED, reason);
      context.explain("sticky " + context.pinned().id() + ": " + reason.label() + ", strict");
      return null;
    }
    context.pinOutcome(StickyPin.Outcome.REPINNED, reason);
    if (region < 0 || (allowed != null && !allowed.contains(regions[region]))) {
      return null;
    }
    context.failoverFrom(regions[region]);
    if (dials.get(region) == 0) {
      return null;
    }
    Backend picked = healthySelectors[region].select(context);
    if (picked != null) {
      context.explain("region " + regions[region]);
    }
    return picked;
  }

  private boolean isMember(int region, Backend backend) {
    for (Backend b : backendsByRegion[region]) {
      if (b == backend || b.equals(backend)) {
        return true;
      }
    }
    return false;
  }
}
