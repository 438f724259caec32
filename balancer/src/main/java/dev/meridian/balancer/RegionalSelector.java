package dev.meridian.balancer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.BiFunction;
import java.util.function.DoubleSupplier;

/**
 * Picks a region for a request, then lets the group's strategy pick a backend inside it: the global
 * part of Meridian's balancing.
 *
 * <p>In order: writes go to the writer region; reads in a read-your-writes window prefer it; data
 * residency limits the regions; then the failover order for the client's region is walked with
 * Envoy-style spill-over (a region keeps all traffic while healthy-fraction x spill-over x dial >= 1;
 * the rest spills to the next). With a latency margin, a preferred region much slower than the next is
 * left, and returned to with hysteresis. When fewer than the panic threshold of the group's backends
 * are healthy, health is ignored (better overload all than crush the few).
 *
 * <p>Thread-safe; the traffic dial is changed at run time with {@link #setDial}.
 */
public final class RegionalSelector implements BackendSelector {
  private final String[] regions;
  private final Map<String, Integer> regionIndex = new HashMap<>();
  private final Backend[][] backendsByRegion;
  private final BackendSelector[] healthySelectors;
  private final BackendSelector[] panicSelectors;
  private final HealthView health;
  private final GroupStats stats;
  private final RegionPolicy policy;
  private final Map<String, int[]> failoverOrders = new HashMap<>();
  private final int[] defaultFailover;
  private final AtomicIntegerArray dials;
  /** Per preferred region: 1 while traffic has left it for latency (hysteresis state). */
  private final AtomicIntegerArray leftForLatency;
  private final DoubleSupplier random;
  private final LongAdder panicPicks = new LongAdder();
  private final AtomicBoolean inPanic = new AtomicBoolean();
  private volatile PanicListener panicListener = (panic, healthy, total) -> { };

  /** Told when the group enters or leaves panic mode. */
  @FunctionalInterface
  public interface PanicListener {
    /**
     * Called once per transition, on the thread whose pick noticed it.
     *
     * @param panic   whether the group is now in panic mode
     * @param healthy healthy backends among the regions considered
     * @param total   all backends among them
     */
    void panicChanged(boolean panic, int healthy, int total);
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
    this.panicSelectors = new BackendSelector[regions.length];
    for (int i = 0; i < regions.length; i++) {
      List<Backend> members = grouped.get(regions[i]);
      regionIndex.put(regions[i], i);
      backendsByRegion[i] = members.toArray(new Backend[0]);
      healthySelectors[i] = strategy.apply(members, health);
      panicSelectors[i] = strategy.apply(members, HealthView.ALL_AVAILABLE);
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
    policy.failover().forEach((client, order) -> {
      if (!"default".equals(client)) {
        failoverOrders.put(client, indexes(order));
      }
    });
    List<String> fallback = policy.failover().get("default");
    this.defaultFailover = fallback == null ? null : indexes(fallback);
  }

  /** Creates the selector drawing spill-over numbers from {@link ThreadLocalRandom}. */
  public RegionalSelector(List<Backend> backends, HealthView health, GroupStats stats, RegionPolicy policy,
      BiFunction<List<Backend>, HealthView, BackendSelector> strategy) {
    this(backends, health, stats, policy, strategy, () -> ThreadLocalRandom.current().nextDouble());
  }

  private int[] indexes(List<String> names) {
    return names.stream().filter(regionIndex::containsKey).mapToInt(regionIndex::get).toArray();
  }

  /** Sets who hears about panic transitions (the proxy logs them). */
  public void onPanicChange(PanicListener listener) {
    this.panicListener = listener;
  }

  /** How many picks were made in panic mode (health ignored), for metrics. */
  public long panicPicks() {
    return panicPicks.sum();
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
    if (context.isWrite() && policy.writer().isPresent()) {
      return selectWriter(context, policy.writer().get(), allowed);
    }
    int[] order = orderFor(context);
    if (context.isReadYourWrites() && policy.writer().isPresent()) {
      order = writerFirst(order, regionIndex.get(policy.writer().get()));
    }
    if (allowed != null) {
      order = onlyAllowed(order, allowed);
      if (order.length == 0) {
        explain(context, "residency: no allowed region in this group");
        return null;
      }
    } else if (isPanic(order)) {
      return selectInPanic(context, order);
    }
    double[] capacity = new double[order.length];
    double total = 0;
    for (int k = 0; k < order.length; k++) {
      int r = order[k];
      capacity[k] = healthyFraction(r) * dials.get(r) / 100.0;
      total += capacity[k];
    }
    if (total == 0) {
      explain(context, allowed != null ? "residency: no healthy backend in " + allowed : "no available region");
      return null;
    }
    applyLatencyMargin(order, capacity);
    int chosen = drawRegion(capacity);
    for (int attempt = 0; attempt < order.length; attempt++) {
      int k = (chosen + attempt) % order.length;
      if (capacity[k] == 0) {
        continue;
      }
      Backend picked = healthySelectors[order[k]].select(context);
      if (picked != null) {
        if (context.wantsExplanation()) {
          context.decision(describe(context, order, k, capacity));
        }
        return picked;
      }
    }
    explain(context, "no available backend in any allowed region");
    return null;
  }

  private Backend selectWriter(SelectionContext context, String writer, Set<String> allowed) {
    Integer w = regionIndex.get(writer);
    if (w == null || (allowed != null && !allowed.contains(writer))) {
      explain(context, "writer " + writer + ": not allowed for this request");
      return null;
    }
    Backend picked = healthySelectors[w].select(context);
    explain(context, picked == null ? "writer " + writer + ": no available backend" : "writer " + writer);
    return picked;
  }

  /** The failover order for the context's client region. */
  private int[] orderFor(SelectionContext context) {
    String client = context.clientRegion();
    int[] configured = client == null ? null : failoverOrders.get(client);
    if (configured == null) {
      configured = defaultFailover;
    }
    if (configured != null) {
      return configured;
    }
    return dynamicOrder(client);
  }

  /** Without a failover table: the client's region, this instance's, then the rest by latency. */
  private int[] dynamicOrder(String client) {
    int[] order = new int[regions.length];
    int n = 0;
    Integer c = client == null ? null : regionIndex.get(client);
    if (c != null) {
      order[n++] = c;
    }
    Integer local = policy.localRegion().map(regionIndex::get).orElse(null);
    if (local != null && !local.equals(c)) {
      order[n++] = local;
    }
    int restStart = n;
    for (int i = 0; i < regions.length; i++) {
      if ((c == null || i != c) && (local == null || i != local)) {
        order[n++] = i;
      }
    }
    sortByLatency(order, restStart);
    return order;
  }

  private void sortByLatency(int[] order, int from) {
    for (int i = from + 1; i < order.length; i++) {
      int r = order[i];
      double cost = regionCost(r);
      int j = i - 1;
      while (j >= from && regionCost(order[j]) > cost) {
        order[j + 1] = order[j];
        j--;
      }
      order[j + 1] = r;
    }
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

  private static int[] writerFirst(int[] order, int writer) {
    int[] out = new int[order.length + 1];
    out[0] = writer;
    int n = 1;
    for (int r : order) {
      if (r != writer) {
        out[n++] = r;
      }
    }
    return Arrays.copyOf(out, n);
  }

  private int[] onlyAllowed(int[] order, Set<String> allowed) {
    int[] out = new int[order.length];
    int n = 0;
    for (int r : order) {
      if (allowed.contains(regions[r])) {
        out[n++] = r;
      }
    }
    if (n == 0) {
      // Allowed regions missing from the failover order are still allowed: use them in group order.
      for (int i = 0; i < regions.length && n < out.length; i++) {
        if (allowed.contains(regions[i])) {
          out[n++] = i;
        }
      }
    }
    return Arrays.copyOf(out, n);
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

  private boolean isPanic(int[] order) {
    int up = 0;
    int all = 0;
    for (int r : order) {
      for (Backend b : backendsByRegion[r]) {
        all++;
        if (health.isAvailable(b)) {
          up++;
        }
      }
    }
    boolean panic = all > 0 && (double) up / all < policy.panicThreshold();
    if (inPanic.get() != panic && inPanic.compareAndSet(!panic, panic)) {
      panicListener.panicChanged(panic, up, all);
    }
    return panic;
  }

  private Backend selectInPanic(SelectionContext context, int[] order) {
    for (int r : order) {
      Backend picked = panicSelectors[r].select(context);
      if (picked != null) {
        panicPicks.increment();
        explain(context, "panic: too few healthy backends, ignoring health");
        return picked;
      }
    }
    return null;
  }

  /**
   * Moves the preferred region's capacity behind the next one's while the preferred region is slower
   * by more than the margin; it comes back when the gap falls below half the margin.
   */
  private void applyLatencyMargin(int[] order, double[] capacity) {
    long margin = policy.latencyMarginNanos();
    if (margin <= 0 || order.length < 2) {
      return;
    }
    int first = firstWithCapacity(capacity);
    int second = -1;
    for (int k = first + 1; k < order.length; k++) {
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

  private static int firstWithCapacity(double[] capacity) {
    for (int k = 0; k < capacity.length; k++) {
      if (capacity[k] > 0) {
        return k;
      }
    }
    return -1;
  }

  /** Envoy's priority load: each region takes min(remaining, capacity x spill-over), normalized. */
  private int drawRegion(double[] capacity) {
    double remaining = 1.0;
    double[] load = new double[capacity.length];
    double sum = 0;
    for (int k = 0; k < capacity.length; k++) {
      load[k] = Math.min(remaining, capacity[k] * policy.spillOver());
      remaining -= load[k];
      sum += load[k];
    }
    double x = random.getAsDouble() * sum;
    for (int k = 0; k < load.length; k++) {
      if (x < load[k]) {
        return k;
      }
      x -= load[k];
    }
    return firstWithCapacity(capacity);
  }

  private String describe(SelectionContext context, int[] order, int chosen, double[] capacity) {
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

  private static void explain(SelectionContext context, String why) {
    if (context.wantsExplanation()) {
      context.decision(why);
    }
  }
}
