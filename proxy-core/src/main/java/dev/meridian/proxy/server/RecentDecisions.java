package dev.meridian.proxy.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A few recent routing decisions for the dashboard: at most one request in each sampling interval
 * is picked at admission (its selector then records why it chose), and its outcome is kept in a
 * small ring. Nothing is sampled while nobody {@linkplain #watch watches}, so the request path pays
 * one volatile read.
 *
 * <p>Thread-safe: event loops sample and record, the admin loop reads.
 */
public final class RecentDecisions {
  /** One routed request, as the dashboard lists it. */
  public record Decision(long epochMillis, String method, String path, String clientRegion, String route,
      String group, String region, String backend, int status, double millis, String why) {}

  private static final int CAPACITY = 20;
  private final Decision[] ring = new Decision[CAPACITY];
  private long written;
  private final AtomicLong nextSampleNanos = new AtomicLong();
  private final long intervalNanos;
  private volatile long watchedUntilNanos;

  /** Keeps decisions sampled at most once per {@code intervalNanos}. */
  RecentDecisions(long intervalNanos) {
    this.intervalNanos = intervalNanos;
  }

  /** Samples requests for the next {@code nanos} (a dashboard renews this while it is open). */
  public void watch(long nanos) {
    watchedUntilNanos = System.nanoTime() + nanos;
  }

  /** Whether this request, starting now, is sampled: someone watches and the interval has passed. */
  boolean sample() {
    long until = watchedUntilNanos;
    if (until == 0) {
      return false;
    }
    long now = System.nanoTime();
    if (now - until >= 0) {
      watchedUntilNanos = 0; // nobody watches any more: back to the one-read path (a racing watch() renews it)
      return false;
    }
    long next = nextSampleNanos.get();
    return now - next >= 0 && nextSampleNanos.compareAndSet(next, now + intervalNanos);
  }

  /** Keeps a sampled request's outcome. */
  void record(Decision decision) {
    synchronized (ring) {
      ring[(int) (written % CAPACITY)] = decision;
      written++;
    }
  }

  /** The kept decisions, newest first. */
  public List<Decision> newestFirst() {
    List<Decision> out = new ArrayList<>(CAPACITY);
    synchronized (ring) {
      long n = written;
      for (long i = n - 1; i >= 0 && i >= n - CAPACITY; i--) {
        Decision d = ring[(int) (i % CAPACITY)];
        if (d != null) {
          out.add(d);
        }
      }
    }
    return out;
  }
}
