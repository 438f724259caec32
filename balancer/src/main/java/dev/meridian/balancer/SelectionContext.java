package dev.meridian.balancer;

/**
 * What a selector knows about the request it picks a backend for.
 *
 * <p>One instance is owned by one request (or reused by one event loop); it is not thread-safe. The
 * excluded backends are those a retry must avoid: they were tried and failed.
 */
public final class SelectionContext {
  private static final Backend[] NONE = new Backend[0];
  private static final int[] NO_INTS = new int[0];
  private static final double[] NO_DOUBLES = new double[0];

  private String clientRegion;
  private Backend[] excluded = NONE;
  private int excludedCount;
  private long hashKey;
  private boolean hasHashKey;
  private boolean write;
  private String decision;
  private java.util.Set<String> allowedRegions;
  private boolean readYourWrites;
  private boolean explain;
  private java.util.function.Predicate<Backend> avoid;
  private Backend pinned;
  private boolean pinStrict;
  private String failoverFrom;
  private StickyPin.Outcome pinOutcome = StickyPin.Outcome.NONE;
  private StickyPin.Reason pinReason;
  // Scratch space for RegionalSelector: a pick allocates nothing once the context has served one.
  private int[] regionOrder = NO_INTS;
  private double[] regionCapacity = NO_DOUBLES;
  private double[] regionLoad = NO_DOUBLES;

  /** The client's region, or null when unknown. */
  public String clientRegion() {
    return clientRegion;
  }

  /** Sets the client's region (null when unknown) and returns this context. */
  public SelectionContext clientRegion(String region) {
    this.clientRegion = region;
    return this;
  }

  /** Sets the key consistent hashing uses (already hashed to 64 bits) and returns this context. */
  public SelectionContext hashKey(long hash) {
    this.hashKey = hash;
    this.hasHashKey = true;
    return this;
  }

  /** Whether the request has a hash key. */
  public boolean hasHashKey() {
    return hasHashKey;
  }

  /** The request's 64-bit hash key; meaningful only when {@link #hasHashKey()}. */
  public long hashKey() {
    return hashKey;
  }

  /** Marks the request as a write (a non-idempotent method) and returns this context. */
  public SelectionContext write(boolean isWrite) {
    this.write = isWrite;
    return this;
  }

  /** Whether the request is a write. */
  public boolean isWrite() {
    return write;
  }

  /**
   * Restricts the pick to these regions (data residency): no backend elsewhere is ever chosen, even
   * when none of them is healthy. Null means any region.
   */
  public SelectionContext allowedRegions(java.util.Set<String> regions) {
    this.allowedRegions = regions;
    return this;
  }

  /** The regions the request may go to, or null for any. */
  public java.util.Set<String> allowedRegions() {
    return allowedRegions;
  }

  /** Marks the request as a read inside its client's read-your-writes window (it prefers the writer region). */
  public SelectionContext readYourWrites(boolean pinned) {
    this.readYourWrites = pinned;
    return this;
  }

  /** Whether the request reads inside a read-your-writes window. */
  public boolean isReadYourWrites() {
    return readYourWrites;
  }

  /** Asks selectors to record why they chose (debug headers); off by default to keep picks allocation-free. */
  public SelectionContext explain(boolean wanted) {
    this.explain = wanted;
    return this;
  }

  /** Whether selectors should record their decision. */
  public boolean wantsExplanation() {
    return explain;
  }

  /** Records why the backend was chosen (for debug headers), e.g. {@code geo eu-west}. */
  public void decision(String why) {
    this.decision = why;
  }

  /** Records why the pick went as it did, when an explanation is wanted (else does nothing). */
  public void explain(String why) {
    if (explain) {
      decision = why;
    }
  }

  /** Why the backend was chosen, or null when no selector explained it. */
  public String decision() {
    return decision;
  }

  /** Marks a backend as not to be picked again for this request (it was tried and failed). */
  public SelectionContext exclude(Backend backend) {
    if (excludedCount == excluded.length) {
      Backend[] grown = new Backend[Math.max(4, excluded.length * 2)];
      System.arraycopy(excluded, 0, grown, 0, excludedCount);
      excluded = grown;
    }
    excluded[excludedCount++] = backend;
    return this;
  }

  /**
   * Also keeps every backend the filter accepts from being picked for this request (a retry avoids
   * backends that just refused connections, say); null removes the filter.
   */
  public SelectionContext avoid(java.util.function.Predicate<Backend> filter) {
    this.avoid = filter;
    return this;
  }

  /** The filter set by {@link #avoid}, or null. */
  public java.util.function.Predicate<Backend> avoided() {
    return avoid;
  }

  /** Whether the backend was excluded by {@link #exclude} or is avoided by the {@link #avoid} filter. */
  public boolean isExcluded(Backend backend) {
    if (excludedCount == 0 && avoid == null) {
      return false;
    }
    for (int i = 0; i < excludedCount; i++) {
      if (excluded[i].equals(backend)) {
        return true;
      }
    }
    return avoid != null && avoid.test(backend);
  }

  /**
   * Forgets the backends {@link #exclude}d after the first {@code count}: they were passed over for a
   * moment (full), not tried.
   */
  public void forgetExclusionsAfter(int count) {
    for (int i = count; i < excludedCount; i++) {
      excluded[i] = null;
    }
    excludedCount = Math.min(count, excludedCount);
  }

  /** How many backends were excluded by {@link #exclude}. */
  public int excludedCount() {
    return excludedCount;
  }

  /**
   * Pins the request to a backend (a sticky session): the selector chooses it when it is usable, and
   * otherwise picks again starting in its region ({@code strict}: picks nothing).
   */
  public SelectionContext pin(Backend backend, boolean strict) {
    this.pinned = backend;
    this.pinStrict = strict;
    this.pinOutcome = StickyPin.Outcome.NONE;
    this.pinReason = null;
    return this;
  }

  /** The backend the request is pinned to, or null. */
  public Backend pinned() {
    return pinned;
  }

  /** Whether a pin that cannot be honoured must not be moved (the pick then finds nothing). */
  public boolean isPinStrict() {
    return pinStrict;
  }

  /**
   * Walks the failover order from this region instead of the client's (a pinned backend gone from
   * the group: its sessions move within its region first); null for the client's.
   */
  public SelectionContext failoverFrom(String region) {
    this.failoverFrom = region;
    return this;
  }

  /** The region the failover order starts from: {@link #failoverFrom(String)}'s, else the client's. */
  public String orderRegion() {
    return failoverFrom != null ? failoverFrom : clientRegion;
  }

  /** Records what became of the pin (selectors, and the proxy for a pin it could not resolve). */
  public void pinOutcome(StickyPin.Outcome outcome, StickyPin.Reason reason) {
    this.pinOutcome = outcome;
    this.pinReason = reason;
  }

  /** What became of the request's pin in the last pick. */
  public StickyPin.Outcome pinOutcome() {
    return pinOutcome;
  }

  /** Why the pin was not honoured in the last pick; null when it was, or there was none. */
  public StickyPin.Reason pinReason() {
    return pinReason;
  }

  /** Scratch for a region order of at least {@code n} entries (contents undefined). */
  int[] regionOrder(int n) {
    if (regionOrder.length < n) {
      regionOrder = new int[n];
    }
    return regionOrder;
  }

  /** Scratch for per-region capacities, at least {@code n} entries (contents undefined). */
  double[] regionCapacity(int n) {
    if (regionCapacity.length < n) {
      regionCapacity = new double[n];
    }
    return regionCapacity;
  }

  /** Scratch for per-region load shares, at least {@code n} entries (contents undefined). */
  double[] regionLoad(int n) {
    if (regionLoad.length < n) {
      regionLoad = new double[n];
    }
    return regionLoad;
  }

  /** Forgets the region and the exclusions so the context can serve the next request. */
  public void reset() {
    clientRegion = null;
    hasHashKey = false;
    hashKey = 0;
    write = false;
    decision = null;
    allowedRegions = null;
    readYourWrites = false;
    explain = false;
    avoid = null;
    pinned = null;
    pinStrict = false;
    failoverFrom = null;
    pinOutcome = StickyPin.Outcome.NONE;
    pinReason = null;
    for (int i = 0; i < excludedCount; i++) {
      excluded[i] = null;
    }
    excludedCount = 0;
  }
}
