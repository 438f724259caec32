package dev.meridian.balancer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.StampedLock;

/**
 * Records what the proxy has observed of one backend: requests in flight and a peak-EWMA of its
 * latency (Finagle/Linkerd semantics). Written by the proxy as requests start, get response headers and
 * finish; read by selectors at pick time.
 *
 * <p>Peak EWMA, with {@code decay} the time constant (default 10 s, {@link GroupStats#DEFAULT_DECAY_NANOS})
 * and {@code dt} the time since the last observation:
 * <ul>
 *   <li>Between observations the cost decays toward zero, {@code current = cost * exp(-dt / decay)}
 *       (Finagle reads the cost as an observation of 0), so an idle or slow-once backend becomes
 *       attractive again and is tried: nothing starves.</li>
 *   <li>An observation above the current cost replaces it at once (peak): one slow answer is felt
 *       immediately.</li>
 *   <li>Otherwise {@code cost = current * w + rtt * (1 - w)} with {@code w = exp(-dt / decay)}: the
 *       cost moves toward the observation, never above the larger of the two.</li>
 * </ul>
 * Reading does not change the state, so many readers (strategies, region ordering, the admin API)
 * never disturb each other's view.
 *
 * <p>Thread-safe: in-flight is atomic; the EWMA is updated under a write lock (short, and uncontended
 * unless many loops answer from the same backend in the same instant) and read optimistically,
 * without locking, by the strategies that read it on every pick.
 */
public final class BackendStats {
  private final Backend backend;
  private final NanoClock clock;
  private final double decayNanos;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final java.util.concurrent.atomic.LongAdder pinnedRequests = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder newPins = new java.util.concurrent.atomic.LongAdder();
  private final StampedLock lock = new StampedLock();
  private double costNanos;
  private long stampNanos;
  private volatile boolean sampled;

  /**
   * Creates empty stats: no latency sample, nothing in flight.
   *
   * @param decayNanos EWMA decay time constant in nanoseconds (default 10 s)
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

  /** A request to this backend started (call once the backend is chosen). */
  public void requestStarted() {
    inFlight.incrementAndGet();
  }

  /** A request to this backend finished, successfully or not (call once per {@link #requestStarted}). */
  public void requestFinished() {
    inFlight.decrementAndGet();
  }

  /** Requests in flight now. */
  public int inFlight() {
    return inFlight.get();
  }

  /**
   * A sticky route's request was answered here: on a session already pinned to this backend, or
   * ({@code newPin}) on a session pinned to it by this answer.
   */
  public void stickyRequest(boolean newPin) {
    (newPin ? newPins : pinnedRequests).increment();
  }

  /** Requests answered here on a session that was already pinned to this backend. */
  public long pinnedRequests() {
    return pinnedRequests.sum();
  }

  /** Sessions pinned to this backend by its answer (new sessions and sessions moved here). */
  public long newPins() {
    return newPins.sum();
  }

  /** Records a latency observation: the time from sending the request to its response headers. */
  public void observe(long rttNanos) {
    long now = clock.nanoTime();
    long stamp = lock.writeLock();
    try {
      if (!sampled) {
        costNanos = rttNanos;
        sampled = true;
      } else {
        double w = weight(now, stampNanos);
        double current = costNanos * w;
        costNanos = rttNanos > current ? rttNanos : current * w + rttNanos * (1 - w);
      }
      stampNanos = now;
    } finally {
      lock.unlockWrite(stamp);
    }
  }

  /** Whether at least one latency was observed. */
  public boolean hasSample() {
    return sampled;
  }

  /** The current cost in nanoseconds, decayed for the time since the last observation (0 when unsampled). */
  public double costNanos() {
    if (!sampled) {
      return 0;
    }
    long now = clock.nanoTime();
    long stamp = lock.tryOptimisticRead();
    double cost = costNanos;
    long at = stampNanos;
    if (!lock.validate(stamp)) {
      stamp = lock.readLock();
      try {
        cost = costNanos;
        at = stampNanos;
      } finally {
        lock.unlockRead(stamp);
      }
    }
    return cost * weight(now, at);
  }

  private double weight(long now, long since) {
    long dt = now - since;
    return dt <= 0 ? 1 : Math.exp(-dt / decayNanos);
  }
}
