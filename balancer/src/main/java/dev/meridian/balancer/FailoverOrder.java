package dev.meridian.balancer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntToDoubleFunction;

/**
 * Writes the order of regions a request walks, for {@link RegionalSelector}: the failover table's
 * order for the client's region (or its {@code default}), or, without a table, the client's region,
 * this instance's, then the rest by latency; the writer region first for a read inside a
 * read-your-writes window; and, with residency, only the allowed regions. Regions are indexes into the
 * group's region list. Allocates nothing per request; thread-safe (immutable).
 */
final class FailoverOrder {
  private final String[] regions;
  private final Map<String, Integer> regionIndex;
  private final Map<String, int[]> byClient = new HashMap<>();
  private final int[] byDefault;
  /** The writer region's index, or -1 when the group has none (or it names a region without backends). */
  private final int writerRegion;
  /** This instance's region's index, or -1. */
  private final int localRegion;
  /** A region's latency (lower first), for the order without a table. */
  private final IntToDoubleFunction cost;

  /**
   * Creates the orders of one group.
   *
   * @param regions     the group's regions, by index
   * @param regionIndex each region's index
   * @param policy      the group's failover table, writer and local region
   * @param cost        a region's latency, read when no table gives the order
   */
  FailoverOrder(String[] regions, Map<String, Integer> regionIndex, RegionPolicy policy, IntToDoubleFunction cost) {
    this.regions = regions;
    this.regionIndex = regionIndex;
    this.cost = cost;
    this.writerRegion = policy.writer().map(w -> regionIndex.getOrDefault(w, -1)).orElse(-1);
    this.localRegion = policy.localRegion().map(l -> regionIndex.getOrDefault(l, -1)).orElse(-1);
    policy.failover().forEach((client, order) -> {
      if (!"default".equals(client)) {
        byClient.put(client, indexes(order));
      }
    });
    List<String> fallback = policy.failover().get("default");
    this.byDefault = fallback == null ? null : indexes(fallback);
  }

  /** The indexes of the named regions the group has, in order, each once. */
  private int[] indexes(List<String> names) {
    return names.stream().filter(regionIndex::containsKey).distinct().mapToInt(regionIndex::get).toArray();
  }

  /** Writes the region order for the context's client into {@code order}; returns its length. */
  int fill(SelectionContext context, int[] order) {
    String client = context.orderRegion();
    int[] configured = client == null ? null : byClient.get(client);
    if (configured == null) {
      configured = byDefault;
    }
    int n;
    if (configured != null) {
      System.arraycopy(configured, 0, order, 0, configured.length);
      n = configured.length;
    } else {
      n = dynamicOrder(client, order);
    }
    if (context.isReadYourWrites() && writerRegion >= 0) {
      n = writerFirst(order, n, writerRegion);
    }
    return n;
  }

  /** Without a failover table: the client's region, this instance's, then the rest by latency. */
  private int dynamicOrder(String client, int[] order) {
    int n = 0;
    Integer c = client == null ? null : regionIndex.get(client);
    if (c != null) {
      order[n++] = c;
    }
    if (localRegion >= 0 && (c == null || localRegion != c)) {
      order[n++] = localRegion;
    }
    int restStart = n;
    for (int i = 0; i < regions.length; i++) {
      if ((c == null || i != c) && i != localRegion) {
        order[n++] = i;
      }
    }
    sortByLatency(order, restStart, n);
    return n;
  }

  private void sortByLatency(int[] order, int from, int to) {
    for (int i = from + 1; i < to; i++) {
      int r = order[i];
      double rCost = cost.applyAsDouble(r);
      int j = i - 1;
      while (j >= from && cost.applyAsDouble(order[j]) > rCost) {
        order[j + 1] = order[j];
        j--;
      }
      order[j + 1] = r;
    }
  }

  /** Moves the writer to the front of the first {@code n} entries (adding it if absent); the new length. */
  private static int writerFirst(int[] order, int n, int writer) {
    int at = n;
    for (int k = 0; k < n; k++) {
      if (order[k] == writer) {
        at = k;
        break;
      }
    }
    System.arraycopy(order, 0, order, 1, at);
    order[0] = writer;
    return at == n ? n + 1 : n;
  }

  /** Keeps the allowed regions of the first {@code n} entries, in order; the new length. */
  int keepAllowed(int[] order, int n, Set<String> allowed) {
    int kept = 0;
    for (int k = 0; k < n; k++) {
      if (allowed.contains(regions[order[k]])) {
        order[kept++] = order[k];
      }
    }
    if (kept == 0) {
      // Allowed regions missing from the failover order are still allowed: use them in group order.
      for (int i = 0; i < regions.length; i++) {
        if (allowed.contains(regions[i])) {
          order[kept++] = i;
        }
      }
    }
    return kept;
  }
}
