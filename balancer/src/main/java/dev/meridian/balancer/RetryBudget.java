package dev.meridian.balancer;

/**
 * Limits retries to a fraction of recent requests, so a failing region cannot multiply the load on
 * the rest: over the last ten seconds, retries may be at most {@code ratio} of requests, but always
 * at least {@code minPerSecond} per second (so a quiet service can still retry).
 *
 * <p>Counts are kept in one-second buckets on an injected clock. Thread-safe.
 */
public final class RetryBudget {
  private static final int BUCKETS = 10;
  private static final long BUCKET_NANOS = 1_000_000_000L;

  private final double ratio;
  private final int minPerSecond;
  private final NanoClock clock;
  private final long[] requests = new long[BUCKETS];
  private final long[] retries = new long[BUCKETS];
  private long currentBucket;

  /**
   * Creates a budget.
   *
   * @param ratio        retries allowed per request over the window, 0-1 (default 0.2)
   * @param minPerSecond retries always allowed per second (default 3)
   */
  public RetryBudget(double ratio, int minPerSecond, NanoClock clock) {
    if (ratio < 0 || ratio > 1) {
      throw new IllegalArgumentException("budget: " + ratio + " (expected: 0.0-1.0)");
    }
    if (minPerSecond < 0) {
      throw new IllegalArgumentException("min-per-second: " + minPerSecond + " (expected: >= 0)");
    }
    this.ratio = ratio;
    this.minPerSecond = minPerSecond;
    this.clock = clock;
    this.currentBucket = clock.nanoTime() / BUCKET_NANOS;
  }

  /** Counts a request (a first attempt). */
  public synchronized void requestStarted() {
    advance();
    requests[(int) (currentBucket % BUCKETS)]++;
  }

  /** Takes one retry from the budget; returns false when the budget is spent. */
  public synchronized boolean tryRetry() {
    advance();
    long requestSum = 0;
    long retrySum = 0;
    for (int i = 0; i < BUCKETS; i++) {
      requestSum += requests[i];
      retrySum += retries[i];
    }
    double allowed = Math.max(ratio * requestSum, (double) minPerSecond * BUCKETS);
    if (retrySum + 1 > allowed) {
      return false;
    }
    retries[(int) (currentBucket % BUCKETS)]++;
    return true;
  }

  private void advance() {
    long bucket = clock.nanoTime() / BUCKET_NANOS;
    long steps = Math.min(bucket - currentBucket, BUCKETS);
    for (long i = 1; i <= steps; i++) {
      int index = (int) ((currentBucket + i) % BUCKETS);
      requests[index] = 0;
      retries[index] = 0;
    }
    if (bucket > currentBucket) {
      currentBucket = bucket;
    }
  }
}
