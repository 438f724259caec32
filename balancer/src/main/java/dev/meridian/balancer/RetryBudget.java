package dev.meridian.balancer;

import java.util.concurrent.atomic.LongAdder;

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
  /** Requests per bucket: counted by every event loop on each request, so striped, without a lock. */
  private final LongAdder[] requests = new LongAdder[BUCKETS];
  /** Retries per bucket, guarded by this (a retry is rare and must check the sum first). */
  private final long[] retries = new long[BUCKETS];
  private volatile long currentBucket;

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
    for (int i = 0; i < BUCKETS; i++) {
      requests[i] = new LongAdder();
    }
    this.currentBucket = clock.nanoTime() / BUCKET_NANOS;
  }

  /**
   * Counts a request (a first attempt). Takes no lock except once a second, to move the window: a
   * request counted while another thread moves it may land in the neighbouring second, which the
   * budget's purpose tolerates.
   */
  public void requestStarted() {
    long bucket = clock.nanoTime() / BUCKET_NANOS;
    if (bucket != currentBucket) {
      advance(bucket);
    }
    requests[(int) (bucket % BUCKETS)].increment();
  }

  /** Takes one retry from the budget; returns false when the budget is spent. */
  public synchronized boolean tryRetry() {
    long bucket = clock.nanoTime() / BUCKET_NANOS;
    advance(bucket);
    long requestSum = 0;
    long retrySum = 0;
    for (int i = 0; i < BUCKETS; i++) {
      requestSum += requests[i].sum();
      retrySum += retries[i];
    }
    double allowed = Math.max(ratio * requestSum, (double) minPerSecond * BUCKETS);
    if (retrySum + 1 > allowed) {
      return false;
    }
    retries[(int) (bucket % BUCKETS)]++;
    return true;
  }

  /** Moves the window to {@code bucket}, clearing the seconds that fell out of it. */
  private synchronized void advance(long bucket) {
    long current = currentBucket;
    long steps = Math.min(bucket - current, BUCKETS);
    for (long i = 1; i <= steps; i++) {
      int index = (int) ((current + i) % BUCKETS);
      requests[index].reset();
      retries[index] = 0;
    }
    if (bucket > current) {
      currentBucket = bucket;
    }
  }
}
