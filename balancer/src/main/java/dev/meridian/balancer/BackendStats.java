package dev.meridian.balancer;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the proxy has observed of one backend: requests in flight and a peak-EWMA of its latency
 * (Finagle/Linkerd semantics). Written by the proxy as requests start, get response headers and
 * finish; read by selectors at pick time.
 *
 * <p>Peak EWMA: an observation above the current cost replaces it at once (peak); otherwise
 * {@code cost = cost * w + rtt * (1 - w)} with {@code w = exp(-dt / decay)}, {@code dt} being the time
 * since the last update. Reading the cost also decays it toward zero as time passes without samples,
 * so an idle or slow-once backend is eventually tried again.
 *
 * <p>Thread-safe: in-flight is atomic; the EWMA is updated under this object's lock (short, and
 * uncontended unless many loops answer from the same backend in the same instant).
 */
public final class BackendStats {
  private final Backend backend;
  private final NanoClock clock;
  private final double decayNanos;
  private final AtomicInteger inFlight = new AtomicInteger();
  private double costNanos;
  private long stampNanos;
  private boolean sampled;

  /**
   * Creates empty stats.
   *
   * @param decayNanos EWMA decay time in nanoseconds (default 10 s)
   */
  public BackendStats(Backend backend, NanoClock clock, long decayNanos) {
    if (decayNanos <= 0) {
      throw new IllegalArgumentException("decay: " + decayNanos + "ns (expected: > 0)");
    }
    this.backend = backend;
    this.clock = clock;
    this.decayNanos = decayNanos;
    this.stampNanos = clock.nanoTime();
  }

  public Backend backend() {
    return backend;
  }

  /** A request to this backend started. */
  public void requestStarted() {
    inFlight.incrementAndGet();
  }

  /** A request to this backend finished (successfully or not). */
  public void requestFinished() {
    inFlight.decrementAndGet();
  }

  /** Requests in flight now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** Records a latency observation (time to response headers). */
  public synchronized void observe(long rttNanos) {
    long now = clock.nanoTime();
    if (!sampled) {
      costNanos = rttNanos;
      sampled = true;
    } else if (rttNanos > costNanos) {
      costNanos = rttNanos;
    } else {
      double w = Math.exp(-(now - stampNanos) / decayNanos);
      costNanos = costNanos * w + rttNanos * (1 - w);
    }
    stampNanos = now;
  }

  /** Whether at least one latency was observed. */
  public synchronized boolean hasSample() {
    return sampled;
  }

  /** The current cost in nanoseconds, decayed for the time since the last observation (0 when unsampled). */
  public synchronized double costNanos() {
    if (!sampled) {
      return 0;
    }
    long dt = clock.nanoTime() - stampNanos;
    return dt <= 0 ? costNanos : costNanos * Math.exp(-dt / decayNanos);
  }
}
