package dev.meridian.balancer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.BiFunction;
import java.util.function.DoubleSupplier;

/**
 * Picks a region for a request, then lets the group's strategy pick a backend inside it: the global
 * part of Meridian's balancing.
 *
 * <p>In order: writes go to the writer region; reads in a read-your-writes window prefer it; data
 * residency limits the regions; then the failover order for the client's region is walked with
 * Envoy-style spill-over: each region's capacity is its healthy fraction x its dial, a region takes
 * {@code min(what is left, capacity x spill-over)} of the traffic and the rest spills to the next one.
 * With a latency margin, a preferred region much slower than the next is left, and returned to with
 * hysteresis.
 *
 * <p>Panic is judged along the order, never over the whole group (Envoy's priority levels): only when
 * the order's capacity, {@code min(1, sum of capacities x spill-over)}, is below the panic threshold
 * is health ignored, and then only inside the first region of the order that still has capacity (or,
 * when none has, the first not dialled to 0).
 * A healthy fallback region is therefore never bypassed for a dead one. Requests with a residency
 * class never panic: they stay on healthy backends of their regions or get none.
 *
 * <p>Picks allocate nothing: the order and capacities are computed in the context's scratch space.
 * Thread-safe; the traffic dial is changed at run time with {@link #setDial}.
 */
public final class RegionalSelector implements BackendSelector {
  private final String[] regions;
  private final Map<String, Integer> regionIndex = new HashMap<>();
  private final Backend[][] backendsByRegion;
  private final BackendSelector[] healthySelectors;
  private final HealthView health;
  private final GroupStats stats;
  private final RegionPolicy policy;
  private final FailoverOrder failoverOrder;
  private final AtomicIntegerArray dials;
  /** Per preferred region: 1 while traffic has left it for latency (hysteresis state). */
  private final AtomicIntegerArray leftForLatency;
  private final DoubleSupplier random;
  private final PanicMode panic;
  private final PinnedSelection pinnedSelection;

  /** Told when a class of client's failover order enters or leaves panic mode. */
  @FunctionalInterface
  public interface PanicListener {
    /**
     * Called once per transition, on the thread whose pick noticed it.
     *
     * @param panic     whether the order is now in panic mode
     * @param region    the region health is now ignored in (panic), or was ignored in (panic over)
     * @param capacity  the order's capacity (healthy fractions x dials x spill-over, capped at 1)
     */
    void panicChanged(boolean panic, String region, double capacity);
  }

  /**
   * Creates the selector.
   *
   * @param backends the group's backends (each names its region)
   * @param health   which backends are available
   * @param stats    latency and load per backend (for latency ordering and margin)
   * @param policy   the group's region policy
   * @param strategy builds the group's strategy over one region's backends and a health view
   * @param random   uniform numbers in [0, 1) for spill-over draws
   */
  public RegionalSelector(List<Backend> backends, HealthView health, GroupStats stats, RegionPolicy policy,
      BiFunction<List<Backend>, HealthView, BackendSelector> strategy, DoubleSupplier random) {
    Map<String, List<Backend>> grouped = new LinkedHashMap<>();
    for (Backend b : backends) {
      grouped.computeIfAbsent(b.region(), r -> new ArrayList<>()).add(b);
    }
    this.regions = grouped.keySet().toArray(new String[0]);
    this.backendsByRegion = new Backend[regions.length][];
    this.healthySelectors = new BackendSelector[regions.length];
    BackendSelector[] panicSelectors = new BackendSelector[regions.length];
    for (int i = 0; i < regions.length; i++) {
      List<Backend> members = grouped.get(regions[i]);
      regionIndex.put(regions[i], i);
      backendsByRegion[i] = members.toArray(new Backend[0]);
      healthySelectors[i] = strategy.apply(members, health);
      // Panic ignores the checks' verdicts, never an operator's drain or ejection.
      panicSelectors[i] = strategy.apply(members, health::mayServeInPanic);
    }
    this.health = health;
    this.stats = stats;
    this.policy = policy;
    this.random = random;
    this.dials = new AtomicIntegerArray(regions.length);
    for (int i = 0; i < regions.length; i++) {
      dials.set(i, 100);
    }
    this.leftForLatency = new AtomicIntegerArray(regions.length);
    this.panic = new PanicMode(regions, regionIndex, panicSelectors, dials, policy);
    this.pinnedSelection = new PinnedSelection(regions, regionIndex, backendsByRegion, healthySelectors, dials,
        health, policy);
    this.failoverOrder = new FailoverOrder(regions, regionIndex, policy, this::regionCost);
  }

  /** Creates the selector drawing spill-over numbers from {@link ThreadLocalRandom}. */
  public RegionalSelector(List<Backend> backends, HealthView health, GroupStats stats, RegionPolicy policy,
      BiFunction<List<Backend>, HealthView, BackendSelector> strategy) {
    this(backends, health, stats, policy, strategy, () -> ThreadLocalRandom.current().nextDouble());
  }

  /** Sets who hears about panic transitions (the proxy logs them). */
  public void onPanicChange(PanicListener listener) {
    panic.onChange(listener);
  }

  /**
   * The regions health is ignored in now (some client's failover order is in panic), for the admin
   * API and metrics. Each order in panic is judged again against health as it is now, so a region
   * that recovered while no request came leaves panic here rather than at the next request (as Envoy
   * recomputes panic when health changes).
   */
  public List<String> panicking() {
    panic.recheck(this::orderCapacity);
    return panic.regions();
  }

  /**
   * The capacity of the failover order of a class of client, with health and dials as they are now:
   * {@code min(1, sum of its regions' healthy fractions x dials x spill-over)}.
   *
   * @param clientRegion the region the order starts from, or null for a client of unknown region
   */
  private double orderCapacity(String clientRegion, boolean readYourWrites) {
    SelectionContext context = new SelectionContext().clientRegion(clientRegion).readYourWrites(readYourWrites);
    int[] order = context.regionOrder(regions.length);
    int n = failoverOrder.fill(context, order);
    return Math.min(1.0, capacities(order, n, context.regionCapacity(n)) * policy.spillOver());
  }

  /** Writes each region's capacity (healthy fraction x dial) along the order; returns their sum. */
  private double capacities(int[] order, int n, double[] capacity) {
    double total = 0;
    for (int k = 0; k < n; k++) {
      int r = order[k];
      capacity[k] = healthyFraction(r) * dials.get(r) / 100.0;
      total += capacity[k];
    }
    return total;
  }

  /** How many picks were made in panic mode (health ignored), for metrics. */
  public long panicPicks() {
    return panic.picks();
  }

  /** The regions of the group, in the order their backends were first listed. */
  public List<String> regions() {
    return List.of(regions);
  }

  /**
   * Sets a region's traffic dial: the percentage of its healthy capacity it offers (0 drains it,
   * 100 is normal). Its withheld share goes to the next region in the failover order.
   *
   * @throws IllegalArgumentException for an unknown region or a percentage outside 0-100
   */
  public void setDial(String region, int percent) {
    Integer i = regionIndex.get(region);
    if (i == null) {
      throw new IllegalArgumentException("region: '" + region + "' (expected: one of " + regionIndex.keySet() + ")");
    }
    if (percent < 0 || percent > 100) {
      throw new IllegalArgumentException("dial: " + percent + " (expected: 0-100)");
    }
    dials.set(i, percent);
  }

  /**
   * The failover order a client of this region walks now (null: a client whose region is unknown),
   * as configured or by latency; what the admin API and dashboard show.
   */
  public List<String> failoverOrder(String clientRegion) {
    SelectionContext context = new SelectionContext().clientRegion(clientRegion);
    int[] order = context.regionOrder(regions.length);
    int n = failoverOrder.fill(context, order);
    List<String> names = new java.util.ArrayList<>(n);
    for (int k = 0; k < n; k++) {
      names.add(regions[order[k]]);
    }
    return names;
  }

  /** The current dial of each region (percent). */
  public Map<String, Integer> dials() {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (int i = 0; i < regions.length; i++) {
      out.put(regions[i], dials.get(i));
    }
    return out;
  }

  @Override
  public Backend select(SelectionContext context) {
    Set<String> allowed = context.allowedRegions();
    Backend pinned = context.pinned();
    if (pinned != null) {
      Backend chosen = pinnedSelection.select(context, pinned, allowed);
      if (chosen != null || context.pinOutcome() == StickyPin.Outcome.REFUSED) {
        return chosen;
      }
    }
    if (context.isWrite() && policy.writer().isPresent()) {
      return selectWriter(context, policy.writer().get(), allowed);
    }
    int[] order = context.regionOrder(regions.length);
    int n = failoverOrder.fill(context, order);
    if (allowed != null) {
      n = failoverOrder.keepAllowed(order, n, allowed);
      if (n == 0) {
        context.explain("residency: no allowed region in this group");
        return null;
      }
    }
    double[] capacity = context.regionCapacity(n);
    double total = capacities(order, n, capacity);
    if (allowed == null) {
      // Envoy's priority model: the order's capacity is what its regions can take, overprovisioned.
      double orderCapacity = Math.min(1.0, total * policy.spillOver());
      if (orderCapacity < policy.panicThreshold()) {
        return panic.select(context, order, n, capacity, orderCapacity);
      }
      panic.note(context, -1, orderCapacity);
    }
    if (total == 0) {
      context.explain(allowed != null ? "residency: no healthy backend in " + allowed : "no available region");
      return null;
    }
    applyLatencyMargin(order, n, capacity);
    int chosen = drawRegion(capacity, context.regionLoad(n), n);
    for (int attempt = 0; attempt < n; attempt++) {
      int k = chosen + attempt < n ? chosen + attempt : chosen + attempt - n;
      if (capacity[k] == 0) {
        continue;
      }
      Backend picked = healthySelectors[order[k]].select(context);
      if (picked != null) {
        if (context.wantsExplanation()) {
          context.decision(describe(context, order, k));
        }
        return picked;
      }
    }
    context.explain("no available backend in any allowed region");
    return null;
  }

  private Backend selectWriter(SelectionContext context, String writer, Set<String> allowed) {
    Integer w = regionIndex.get(writer);
    if (w == null || (allowed != null && !allowed.contains(writer))) {
      context.explain("writer " + writer + ": not allowed for this request");
      return null;
    }
    Backend picked = healthySelectors[w].select(context);
    context.explain(picked == null ? "writer " + writer + ": no available backend" : "writer " + writer);
    return picked;
  }

  /**
   * A region's latency: the lowest decayed cost among its available backends. A region without a
   * sample costs 0 so it is probed first; an idle region's cost decays, so it is probed again later.
   */
  private double regionCost(int region) {
    double best = Double.MAX_VALUE;
    for (Backend b : backendsByRegion[region]) {
      BackendStats s = stats.of(b);
      if (s != null && health.isAvailable(b)) {
        best = Math.min(best, s.hasSample() ? s.costNanos() : 0);
      }
    }
    return best;
  }

  private double healthyFraction(int region) {
    Backend[] members = backendsByRegion[region];
    int up = 0;
    for (Backend b : members) {
      if (health.isAvailable(b)) {
        up++;
      }
    }
    return members.length == 0 ? 0 : (double) up / members.length;
  }

  /**
   * Moves the preferred region's capacity behind the next one's while the preferred region is slower
   * by more than the margin; it comes back when the gap falls below half the margin.
   */
  private void applyLatencyMargin(int[] order, int n, double[] capacity) {
    long margin = policy.latencyMarginNanos();
    if (margin <= 0 || n < 2) {
      return;
    }
    int first = firstWithCapacity(capacity, n);
    if (first < 0) {
      return;
    }
    int second = -1;
    for (int k = first + 1; k < n; k++) {
      if (capacity[k] > 0) {
        second = k;
        break;
      }
    }
    if (first < 0 || second < 0) {
      return;
    }
    double gap = regionCost(order[first]) - regionCost(order[second]);
    int preferred = order[first];
    boolean left = leftForLatency.get(preferred) == 1;
    if (!left && gap > margin) {
      leftForLatency.set(preferred, 1);
      left = true;
    } else if (left && gap < margin / 2.0) {
      leftForLatency.set(preferred, 0);
      left = false;
    }
    if (left) {
      capacity[first] = 0;
    }
  }

  private static int firstWithCapacity(double[] capacity, int n) {
    for (int k = 0; k < n; k++) {
      if (capacity[k] > 0) {
        return k;
      }
    }
    return -1;
  }

  /** Envoy's priority load: each region takes min(remaining, capacity x spill-over), normalized. */
  private int drawRegion(double[] capacity, double[] load, int n) {
    double remaining = 1.0;
    double sum = 0;
    for (int k = 0; k < n; k++) {
      load[k] = Math.min(remaining, capacity[k] * policy.spillOver());
      remaining -= load[k];
      sum += load[k];
    }
    double x = random.getAsDouble() * sum;
    for (int k = 0; k < n; k++) {
      if (x < load[k]) {
        return k;
      }
      x -= load[k];
    }
    return firstWithCapacity(capacity, n);
  }

  private String describe(SelectionContext context, int[] order, int chosen) {
    String prefix = context.isReadYourWrites() && policy.writer().isPresent() ? "read-your-writes " : "";
    String chosenRegion = regions[order[chosen]];
    if (chosen == 0) {
      return prefix + (context.clientRegion() != null && context.clientRegion().equals(chosenRegion)
          ? "geo " + chosenRegion : "region " + chosenRegion);
    }
    String preferred = regions[order[0]];
    int p = order[0];
    String why;
    if (dials.get(p) == 0) {
      why = "dialled to 0";
    } else if (healthyFraction(p) == 0) {
      why = "unhealthy";
    } else if (leftForLatency.get(p) == 1) {
      why = "latency";
    } else {
      double kept = Math.min(1.0, healthyFraction(p) * dials.get(p) / 100.0 * policy.spillOver());
      why = "spill " + Math.round((1 - kept) * 100) + "%";
    }
    return prefix + "failover " + preferred + "->" + chosenRegion + ": " + why;
  }
}
