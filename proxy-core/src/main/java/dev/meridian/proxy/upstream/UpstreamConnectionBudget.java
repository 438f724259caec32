package dev.meridian.proxy.upstream;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the HTTP/1 backend connections the whole process holds at once, within its open-file limit
 * (half of ulimit -n, less 256 kept for everything else; the client listeners hold theirs within the
 * other half), as Envoy's circuit breakers bound a cluster's connections. Each HTTP/2 client stream
 * to an HTTP/1 backend needs a connection of its own: one client with 230 HTTP/2 connections of 100
 * stalled streams each used every descriptor, and every other client, the admin port included, went
 * unanswered. A request that finds the budget spent is answered 503 at once, not counted against the
 * backend.
 *
 * <p>Thread-safe: every event loop's pool takes from the one budget.
 */
public final class UpstreamConnectionBudget {
  /** Descriptors kept for listeners, the admin port, checks, discovery and logs. */
  static final int RESERVED = 256;

  private final int max;
  private final AtomicInteger open = new AtomicInteger();

  /** A budget of {@code max} connections. */
  public UpstreamConnectionBudget(int max) {
    this.max = max;
  }

  /** The budget the process's open-file limit allows (no bound where the platform does not say). */
  public static UpstreamConnectionBudget fromDescriptorLimit() {
    long limit = dev.meridian.proxy.transport.DescriptorLimit.get().orElse(-1);
    return new UpstreamConnectionBudget(limit <= 0 ? Integer.MAX_VALUE
        : (int) Math.max(16, Math.min(Integer.MAX_VALUE, (limit - RESERVED) / 2)));
  }

  /** Takes a connection's place, or says there is none (the caller must {@link #give} a taken one back). */
  boolean take() {
    while (true) {
      int now = open.get();
      if (now >= max) {
        return false;
      }
      if (open.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** Gives a place back (its connection closed). */
  void give() {
    open.decrementAndGet();
  }

  /** Connections open under the budget. */
  public int open() {
    return open.get();
  }

  /** The most connections the budget allows. */
  public int max() {
    return max;
  }

  /** The failure of a connect the budget refused: this process's shortage, not the backend's. */
  public static final class Exhausted extends java.io.IOException {
    Exhausted(int max) {
      super("the process holds " + max + " backend connections, the most its open-file limit allows", null);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this; // refused under load, often: no trace to build
    }
  }
}
