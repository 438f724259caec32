package dev.meridian.balancer;

import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Sends every request with the same hash key to the same backend, with bounded load: strategy
 * {@code consistent-hash}.
 *
 * <p>The key is {@link SelectionContext#hashKey()} (the proxy hashes a header, cookie or the client
 * address into it). Two lookup structures, both built once per membership and both moving about
 * {@code 1/(N+1)} of the keys when one backend joins N:
 * <ul>
 *   <li>{@link Algorithm#MAGLEV} (the default): Google's Maglev table of {@value #DEFAULT_TABLE_SIZE}
 *       entries (a prime, larger than the number of backends), filled in proportion to weight; a pick is
 *       one array read.</li>
 *   <li>{@link Algorithm#RING}: a hash ring with {@value #DEFAULT_VIRTUAL_NODES} virtual nodes per
 *       unit of weight (at most {@value #MAX_RING} points in all); a pick is a binary search.</li>
 * </ul>
 * Backends are placed by a stable hash of their id, so every instance and every restart agree.
 *
 * <p>Bounded load (Google's "consistent hashing with bounded loads", default factor 1.25): a backend
 * whose in-flight count exceeds {@code max(1, ceil(factor x (inFlight of all available + 1) / available))}
 * is skipped, and so is an unavailable or excluded one; the request goes to the next candidate in the
 * table or ring, so the other keys stay where they are. {@link Double#POSITIVE_INFINITY} turns the bound
 * off. A request without a hash key is balanced by {@link LeastRequestSelector} (power of two choices on
 * in-flight).
 *
 * <p>Thread-safe and allocation-free per pick. Membership is fixed: a group change builds a new selector.
 */
public final class ConsistentHashSelector implements BackendSelector {
  /** Maglev table size: a prime, so every backend's permutation covers the table. */
  public static final int DEFAULT_TABLE_SIZE = 65537;
  /** Ring points per unit of weight. */
  public static final int DEFAULT_VIRTUAL_NODES = 160;
  /** Default bounded-load factor. */
  public static final double DEFAULT_BOUNDED_LOAD = 1.25;
  /** Most points a ring holds; more virtual nodes are scaled down. */
  static final int MAX_RING = 1 << 20;

  /** How keys are mapped to backends. */
  public enum Algorithm {
    /** Maglev lookup table. */
    MAGLEV,
    /** Ring hashing with virtual nodes. */
    RING;

    /** The algorithm for a configuration name: {@code maglev} or {@code ring}. */
    public static Algorithm of(String name) {
      switch (name) {
        case "maglev":
          return MAGLEV;
        case "ring":
          return RING;
        default:
          throw new IllegalArgumentException("hashing: '" + name + "' (expected: maglev or ring)");
      }
    }
  }

  private final Backend[] backends;
  private final BackendStats[] stats;
  private final HealthView health;
  private final double boundedLoad;
  private final Algorithm algorithm;
  /** Maglev: backend index per table entry. Ring: backend index per point, in point order. */
  private final int[] owners;
  /** Ring only: the sorted point hashes. */
  private final long[] points;
  /** Entries examined after the key's own before scanning the backends (bounds a mostly-down group). */
  private final int walkLimit;
  private final LeastRequestSelector withoutKey;
  /** Picks a cached capacity serves before it is recomputed: 1 below 16 backends, n / 8 above. */
  private final int capacityRefresh;
  /** Cached capacity and how many picks have used it; plain fields, races only cost a recount. */
  private int cachedCapacity;
  private int capacityUses = Integer.MAX_VALUE;

  /**
   * Creates a selector.
   *
   * @param backends    the backends, each known to {@code stats}
   * @param health      consulted on every pick
   * @param stats       in-flight counts per backend (bounded load and requests without a key)
   * @param algorithm   Maglev (default) or ring
   * @param boundedLoad bounded-load factor, at least 1 (default 1.25; infinity: no bound)
   * @param random      randomness for requests without a key; null for ThreadLocalRandom (the default)
   */
  public ConsistentHashSelector(List<Backend> backends, HealthView health, GroupStats stats,
      Algorithm algorithm, double boundedLoad, RandomGenerator random) {
    this(backends, health, stats, algorithm, boundedLoad, random, DEFAULT_TABLE_SIZE, DEFAULT_VIRTUAL_NODES);
  }

  /**
   * Creates a selector with an explicit Maglev table size (a prime larger than the number of backends;
   * ideally 100 times larger) and ring virtual nodes per unit of weight.
   */
  public ConsistentHashSelector(List<Backend> backends, HealthView health, GroupStats stats,
      Algorithm algorithm, double boundedLoad, RandomGenerator random, int tableSize, int virtualNodes) {
    if (!(boundedLoad >= 1)) {
      throw new IllegalArgumentException("bounded-load: " + boundedLoad + " (expected: >= 1, or infinity for none)");
    }
    this.backends = backends.toArray(new Backend[0]);
    this.stats = Candidates.statsOf(this.backends, stats);
    this.health = health;
    this.boundedLoad = boundedLoad;
    this.algorithm = algorithm;
    this.withoutKey = new LeastRequestSelector(backends, health, stats, random);
    if (algorithm == Algorithm.MAGLEV) {
      if (!isPrime(tableSize) || tableSize <= this.backends.length) {
        throw new IllegalArgumentException("table-size: " + tableSize
            + " (expected: a prime larger than the " + this.backends.length + " backends)");
      }
      this.owners = maglevTable(this.backends, tableSize);
      this.points = null;
    } else {
      if (virtualNodes < 1) {
        throw new IllegalArgumentException("virtual-nodes: " + virtualNodes + " (expected: >= 1)");
      }
      long[][] ring = ring(this.backends, virtualNodes);
      this.points = ring[0];
      this.owners = new int[ring[1].length];
      for (int i = 0; i < owners.length; i++) {
        owners[i] = (int) ring[1][i];
      }
    }
    this.walkLimit = Math.min(owners.length, Math.max(64, 4 * this.backends.length));
    this.capacityRefresh = Math.max(1, this.backends.length / 8);
  }

  @Override
  public Backend select(SelectionContext context) {
    if (backends.length == 0) {
      return null;
    }
    if (!context.hasHashKey()) {
      return withoutKey.select(context);
    }
    long hash = Hash64.mix(context.hashKey());
    int start = algorithm == Algorithm.MAGLEV
        ? (int) Long.remainderUnsigned(hash, owners.length)
        : ringIndex(hash);
    int capacity = boundedLoad == Double.POSITIVE_INFINITY ? Integer.MAX_VALUE : -1;
    int fallback = -1;
    int length = owners.length;
    int n = backends.length;
    // First the key's neighbourhood in the table or ring; then, for a mostly-down or overloaded
    // neighbourhood, every backend, in an order that is deterministic per key.
    int from = (int) Long.remainderUnsigned(hash, n);
    for (int step = 0; step < walkLimit + n; step++) {
      int b;
      if (step < walkLimit) {
        int slot = start + step;
        b = owners[slot < length ? slot : slot - length];
      } else {
        b = (from + step - walkLimit) % n;
      }
      if (!Candidates.usable(backends[b], health, context)) {
        continue;
      }
      if (fallback < 0) {
        fallback = b;
      }
      int inFlight = stats[b].inFlight();
      if (inFlight <= 1) {
        return backends[b];
      }
      if (capacity < 0) {
        capacity = capacity();
      }
      if (inFlight <= capacity) {
        return backends[b];
      }
    }
    return fallback < 0 ? null : backends[fallback];
  }

  /**
   * The most requests an available backend may have in flight before keys spill past it. Counting
   * costs O(n), so in groups of 16 or more backends a count serves the next {@code n / 8} picks that
   * need it (the average moves little between them).
   */
  private int capacity() {
    if (capacityUses >= capacityRefresh) {
      cachedCapacity = countCapacity();
      capacityUses = 0;
    }
    capacityUses++;
    return cachedCapacity;
  }

  private int countCapacity() {
    long total = 0;
    int available = 0;
    for (int i = 0; i < backends.length; i++) {
      if (health.isAvailable(backends[i])) {
        total += Math.max(0, stats[i].inFlight());
        available++;
      }
    }
    if (available == 0) {
      return Integer.MAX_VALUE;
    }
    double bound = Math.ceil(boundedLoad * (total + 1) / available);
    return bound >= Integer.MAX_VALUE ? Integer.MAX_VALUE : Math.max(1, (int) bound);
  }

  /** The first ring point at or after the hash, wrapping around. */
  private int ringIndex(long hash) {
    int i = Arrays.binarySearch(points, hash);
    if (i < 0) {
      i = -i - 1;
    }
    return i == points.length ? 0 : i;
  }

  /** Maglev's population (with Envoy's weighting): each backend takes its preferred free entry in turn. */
  private static int[] maglevTable(Backend[] backends, int size) {
    int[] table = new int[size];
    Arrays.fill(table, -1);
    int n = backends.length;
    if (n == 0) {
      return new int[0];
    }
    long[] offset = new long[n];
    long[] skip = new long[n];
    long[] nextIndex = new long[n];
    long[] target = new long[n];
    long maxWeight = 0;
    for (int i = 0; i < n; i++) {
      long h = Hash64.of(backends[i].id());
      offset[i] = Long.remainderUnsigned(Hash64.derive(h, 0), size);
      skip[i] = Long.remainderUnsigned(Hash64.derive(h, 1), size - 1) + 1;
      maxWeight = Math.max(maxWeight, backends[i].weight());
    }
    int filled = 0;
    for (long iteration = 1; filled < size; iteration++) {
      for (int i = 0; i < n && filled < size; i++) {
        // A backend of the largest weight takes an entry every iteration, one of a third of it every third.
        if (iteration * backends[i].weight() < target[i]) {
          continue;
        }
        target[i] += maxWeight;
        int c = (int) ((offset[i] + nextIndex[i] * skip[i]) % size);
        while (table[c] >= 0) {
          nextIndex[i]++;
          c = (int) ((offset[i] + nextIndex[i] * skip[i]) % size);
        }
        table[c] = i;
        nextIndex[i]++;
        filled++;
      }
    }
    return table;
  }

  /** Ring points {hashes, owners}, sorted by hash (ties by owner, so the order is deterministic). */
  private static long[][] ring(Backend[] backends, int virtualNodes) {
    long total = 0;
    for (Backend b : backends) {
      total += (long) virtualNodes * b.weight();
    }
    double scale = total > MAX_RING ? (double) MAX_RING / total : 1;
    int count = 0;
    int[] perBackend = new int[backends.length];
    for (int i = 0; i < backends.length; i++) {
      perBackend[i] = Math.max(1, (int) (virtualNodes * backends[i].weight() * scale));
      count += perBackend[i];
    }
    long[] hashes = new long[count];
    long[] owner = new long[count];
    Integer[] order = new Integer[count];
    int p = 0;
    for (int i = 0; i < backends.length; i++) {
      long base = Hash64.of(backends[i].id());
      for (int v = 0; v < perBackend[i]; v++) {
        hashes[p] = Hash64.derive(base, v);
        owner[p] = i;
        order[p] = p;
        p++;
      }
    }
    Arrays.sort(order, (x, y) -> hashes[x] != hashes[y]
        ? Long.compare(hashes[x], hashes[y])
        : backends[(int) owner[x]].id().compareTo(backends[(int) owner[y]].id()));
    long[] sortedHashes = new long[count];
    long[] sortedOwners = new long[count];
    for (int i = 0; i < count; i++) {
      sortedHashes[i] = hashes[order[i]];
      sortedOwners[i] = owner[order[i]];
    }
    return new long[][] {sortedHashes, sortedOwners};
  }

  private static boolean isPrime(int n) {
    if (n < 2) {
      return false;
    }
    for (int d = 2; (long) d * d <= n; d++) {
      if (n % d == 0) {
        return false;
      }
    }
    return true;
  }
}
