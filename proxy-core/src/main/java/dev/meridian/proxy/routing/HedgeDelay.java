package dev.meridian.proxy.routing;

import dev.meridian.balancer.NanoClock;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * How long a hedged route waits for response headers before it sends a hedge: the policy's fixed
 * delay, or the latency percentile of the route's responses over the last ten seconds, recomputed
 * once a second. Until a second has seen {@value #MIN_SAMPLES} responses in the window, a percentile
 * route sends no hedge (there is nothing to measure against yet).
 *
 * <p>Latencies are recorded by every event loop without a lock (HdrHistogram's {@link Recorder});
 * the once-a-second roll is synchronized. Time comes from an injected clock.
 */
public final class HedgeDelay {
  /** Responses the window must hold before its percentile is believed. */
  static final int MIN_SAMPLES = 20;
  /** The shortest delay a percentile gives: hedging a sub-millisecond backend helps nobody. */
  static final long FLOOR_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final int SECONDS = 10;
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private final HedgePolicy policy;
  private final NanoClock clock;
  private final Recorder recorder;
  /** The last {@value #SECONDS} seconds' latencies in microseconds, one histogram a second. */
  private final Histogram[] seconds;
  private final Histogram window;
  private Histogram spare;
  private int slot;
  private volatile long nextRollNanos;
  private volatile long percentileNanos = -1;

  /** Creates the delay of a route with this policy. */
  public HedgeDelay(HedgePolicy policy, NanoClock clock) {
    this.policy = policy;
    this.clock = clock;
    boolean measured = policy.after() == null;
    this.recorder = measured ? new Recorder(2) : null;
    this.seconds = new Histogram[measured ? SECONDS : 0];
    for (int i = 0; i < seconds.length; i++) {
      seconds[i] = new Histogram(2);
    }
    this.window = measured ? new Histogram(2) : null;
    this.nextRollNanos = clock.nanoTime() + SECOND;
  }

  /** The route's hedge policy. */
  public HedgePolicy policy() {
    return policy;
  }

  /** Whether the delay follows measured latencies (their responses should be {@linkplain #record recorded}). */
  public boolean isMeasured() {
    return recorder != null;
  }

  /** Records the time a backend took to send response headers (measured delays only). */
  public void record(long nanos) {
    if (recorder != null) {
      recorder.recordValue(Math.max(1, nanos / 1000));
    }
  }

  /** The delay before a hedge now, in nanoseconds; -1 when a measured delay has too few samples yet. */
  public long delayNanos() {
    if (recorder == null) {
      return policy.after().toNanos();
    }
    long now = clock.nanoTime();
    if (now - nextRollNanos >= 0) {
      roll(now);
    }
    return percentileNanos;
  }

  /** Moves the window on by the seconds that passed and recomputes the percentile. */
  private synchronized void roll(long now) {
    if (now - nextRollNanos < 0) {
      return; // another loop rolled it
    }
    long elapsed = 1 + (now - nextRollNanos) / SECOND;
    spare = recorder.getIntervalHistogram(spare);
    for (long i = 0; i < Math.min(elapsed, SECONDS); i++) {
      slot = (slot + 1) % SECONDS;
      seconds[slot].reset();
    }
    seconds[slot].add(spare);
    window.reset();
    for (Histogram second : seconds) {
      window.add(second);
    }
    nextRollNanos += elapsed * SECOND;
    percentileNanos = window.getTotalCount() < MIN_SAMPLES ? -1
        : Math.max(FLOOR_NANOS, window.getValueAtPercentile(policy.percentile()) * 1000);
  }
}
