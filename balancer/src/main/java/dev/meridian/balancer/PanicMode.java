package dev.meridian.balancer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link RegionalSelector}'s panic mode: when a failover order's capacity is below the panic
 * threshold, health is ignored inside one region of the order, and each class of client's entry into
 * and exit from panic is told to a listener once.
 *
 * <p>Thread-safe: the state per class of client is one atomic slot.
 */
final class PanicMode {
  private final String[] regions;
  private final Map<String, Integer> regionIndex;
  private final BackendSelector[] panicSelectors;
  private final AtomicIntegerArray dials;
  private final RegionPolicy policy;
  private final LongAdder picks = new LongAdder();
  /**
   * Per class of client (its region, or "unknown", times whether it reads inside a read-your-writes
   * window): -1 while that class's failover order is not in panic, else the region health is
   * ignored in. One slot per class, so two orders that share a first region cannot flip each other.
   */
  private final AtomicIntegerArray regionBySlot;
  private volatile RegionalSelector.PanicListener listener = (panic, region, capacity) -> { };

  /**
   * Creates the panic state of a selector over these regions.
   *
   * @param panicSelectors per region, the strategy over all its backends, health ignored
   * @param dials          per region, the traffic dial in percent (shared with the selector)
   */
  PanicMode(String[] regions, Map<String, Integer> regionIndex, BackendSelector[] panicSelectors,
      AtomicIntegerArray dials, RegionPolicy policy) {
    this.regions = regions;
    this.regionIndex = regionIndex;
    this.panicSelectors = panicSelectors;
    this.dials = dials;
    this.policy = policy;
    this.regionBySlot = new AtomicIntegerArray(2 * (regions.length + 1));
    for (int i = 0; i < regionBySlot.length(); i++) {
      regionBySlot.set(i, -1);
    }
  }

  void onChange(RegionalSelector.PanicListener listener) {
    this.listener = listener;
  }

  /** The regions health is ignored in now. */
  List<String> regions() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < regionBySlot.length(); i++) {
      int region = regionBySlot.get(i);
      if (region >= 0 && !out.contains(regions[region])) {
        out.add(regions[region]);
      }
    }
    return out;
  }

  /** The capacity of a class of client's failover order now (its region or null; read-your-writes). */
  @FunctionalInterface
  interface OrderCapacity {
    double of(String clientRegion, boolean readYourWrites);
  }

  /**
   * Ends panic for each class of client whose order's capacity, judged now, is back at the threshold
   * or above (the listener is told, as when a pick notices it).
   */
  void recheck(OrderCapacity capacity) {
    for (int slot = 0; slot < regionBySlot.length(); slot++) {
      int region = regionBySlot.get(slot);
      if (region < 0) {
        continue;
      }
      int client = slot / 2;
      if (client == regions.length) {
        // Clients of regions the group has not share this slot, yet their orders differ (a failover
        // table may give each its own): only their next pick can tell.
        continue;
      }
      double now = capacity.of(regions[client], slot % 2 == 1);
      if (now >= policy.panicThreshold() && regionBySlot.compareAndSet(slot, region, -1)) {
        listener.panicChanged(false, regions[region], now);
      }
    }
  }

  /** Picks made with health ignored. */
  long picks() {
    return picks.sum();
  }

  /**
   * Records which region the context's class of client panics in (-1: none); tells the listener on a
   * change. Slots: the region the order starts from (the client's, or a moved pin's; or unknown) x
   * read-your-writes.
   */
  void note(SelectionContext context, int region, double orderCapacity) {
    String client = context.orderRegion();
    Integer c = client == null ? null : regionIndex.get(client);
    int slot = (c == null ? regions.length : c) * 2 + (context.isReadYourWrites() ? 1 : 0);
    int before = regionBySlot.get(slot);
    if (before != region && regionBySlot.compareAndSet(slot, before, region)) {
      boolean panic = region >= 0;
      listener.panicChanged(panic, regions[panic ? region : before], orderCapacity);
    }
  }

  /**
   * Picks with health ignored inside one region: the first of the order that still has capacity
   * (healthy backends, dial above 0), as Envoy does; when no region has any, the first not dialled to
   * 0. A retry that excluded every backend of that region goes on along the order.
   */
  Backend select(SelectionContext context, int[] order, int n, double[] capacity, double orderCapacity) {
    boolean anyCapacity = false;
    for (int k = 0; k < n && !anyCapacity; k++) {
      anyCapacity = capacity[k] > 0;
    }
    boolean noted = false;
    for (int k = 0; k < n; k++) {
      int r = order[k];
      if (anyCapacity ? capacity[k] == 0 : dials.get(r) == 0) {
        continue;
      }
      if (!noted) {
        note(context, r, orderCapacity);
        noted = true;
      }
      Backend picked = panicSelectors[r].select(context);
      if (picked != null) {
        picks.increment();
        if (context.wantsExplanation()) {
          context.decision("panic: " + Math.round(orderCapacity * 100) + "% capacity in the failover order"
              + " (threshold " + Math.round(policy.panicThreshold() * 100) + "%), ignoring health in "
              + regions[r]);
        }
        return picked;
      }
    }
    context.explain("panic: no region left to try");
    return null;
  }
}
