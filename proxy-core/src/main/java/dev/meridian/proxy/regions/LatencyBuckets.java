package dev.meridian.proxy.regions;

import java.util.concurrent.atomic.LongAdder;

/**
 * A fixed-bucket latency histogram that many threads record into without locks or allocation, read
 * as cumulative counts (like a Prometheus histogram): a reader takes two snapshots and estimates
 * quantiles of what happened between them with {@link #quantileMillis}.
 *
 * <p>Bucket upper bounds, in milliseconds: {@link #BOUNDS_MS} (the last one is unbounded).
 */
public final class LatencyBuckets {
  /** Upper bounds of the buckets in milliseconds; a value above the last one lands in an extra bucket. */
  public static final double[] BOUNDS_MS =
      {0.5, 1, 2, 5, 10, 20, 50, 100, 200, 300, 500, 750, 1000, 2000, 5000, 10000, 30000};
  private static final long[] BOUNDS_NANOS = new long[BOUNDS_MS.length];

  static {
    for (int i = 0; i < BOUNDS_MS.length; i++) {
      BOUNDS_NANOS[i] = (long) (BOUNDS_MS[i] * 1_000_000);
    }
  }

  private final LongAdder[] counts = new LongAdder[BOUNDS_MS.length + 1];

  /** Creates an empty histogram. */
  public LatencyBuckets() {
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new LongAdder();
    }
  }

  /** Records one latency. */
  public void record(long nanos) {
    int i = 0;
    while (i < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[i]) {
      i++;
    }
    counts[i].increment();
  }

  /** The count in each bucket so far, the last being the unbounded one. */
  public long[] snapshot() {
    long[] out = new long[counts.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = counts[i].sum();
    }
    return out;
  }

  /**
   * Estimates the {@code q} quantile (0-1) of the values counted in {@code counts} (one count per
   * bucket, as from the difference of two snapshots), interpolating linearly inside the bucket that
   * holds it, as Prometheus' {@code histogram_quantile} does; NaN when nothing was counted. A value in
   * the unbounded bucket is reported as the last bound.
   */
  public static double quantileMillis(long[] counts, double q) {
    long total = 0;
    for (long c : counts) {
      total += c;
    }
    if (total == 0) {
      return Double.NaN;
    }
    double rank = q * total;
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > 0 && seen + counts[i] >= rank) {
        if (i >= BOUNDS_MS.length) {
          return BOUNDS_MS[BOUNDS_MS.length - 1];
        }
        double lower = i == 0 ? 0 : BOUNDS_MS[i - 1];
        return lower + (BOUNDS_MS[i] - lower) * Math.max(0, rank - seen) / counts[i];
      }
      seen += counts[i];
    }
    return BOUNDS_MS[BOUNDS_MS.length - 1];
  }
}
