package dev.meridian.proxy.server;

import dev.meridian.balancer.NanoClock;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides whether a failure seen on a request goes to the application log: the first of its kind
 * (one backend's refused connections, one route's "no backend") does, then at most one per interval,
 * which says how many like it were left out since. A backend that dies under load fails every request
 * sent to it at once; a log line each (tens of thousands a second, written on the event loops) would
 * bury the log and slow the proxy just as it is needed. The metrics still count every failure.
 *
 * <p>Thread-safe: the event loops share it.
 */
public final class FailureLogLimit {
  private final NanoClock clock;
  private final long intervalNanos;
  /** Kinds kept before quiet ones are dropped. */
  private static final int MAX_KINDS = 1024;
  /** How long a kind must have been quiet to be dropped. */
  private static final long QUIET_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
  private final ConcurrentHashMap<Kind, Window> windows = new ConcurrentHashMap<>();

  /** A kind of failure: what failed (a backend, a route) and how. */
  private record Kind(Object subject, String how) {}

  /** One kind's last logged line and what was left out since. Guarded by itself. */
  private static final class Window {
    private boolean logged;
    private long loggedNanos;
    private long leftOut;
  }

  /** Creates a limit of one line per kind per {@code intervalNanos} of the clock. */
  public FailureLogLimit(NanoClock clock, long intervalNanos) {
    this.clock = clock;
    this.intervalNanos = intervalNanos;
  }

  /**
   * Whether this failure is logged: -1 when it is left out, else the number of its kind left out
   * since the last one logged (0 for the first).
   *
   * @param subject what failed (a backend, a route)
   * @param how     how it failed ("connect", "closed")
   */
  long admit(Object subject, String how) {
    long now = clock.nanoTime();
    Window window = windows.get(new Kind(subject, how));
    if (window == null) {
      if (windows.size() >= MAX_KINDS) {
        // Backends come and go (discovery): windows quiet for a while are dropped, not kept forever.
        windows.values().removeIf(quiet -> now - quiet.loggedNanos > QUIET_NANOS);
      }
      window = windows.computeIfAbsent(new Kind(subject, how), kind -> new Window());
    }
    synchronized (window) {
      if (window.logged && now - window.loggedNanos < intervalNanos) {
        window.leftOut++;
        return -1;
      }
      long leftOut = window.leftOut;
      window.logged = true;
      window.loggedNanos = now;
      window.leftOut = 0;
      return leftOut;
    }
  }

  /**
   * Whether this failure's line is logged, and how it ends: null when it is left out, else the
   * number of its kind left out since the last one logged, as a suffix ("" when none).
   */
  public String admittedLine(Object subject, String how) {
    long leftOut = admit(subject, how);
    return leftOut < 0 ? null : leftOut(leftOut);
  }

  /** The suffix a logged line gets for the lines left out before it ("" when none were). */
  static String leftOut(long count) {
    return count > 0 ? " (and " + count + " more like it since the last logged)" : "";
  }

  /** The number of kinds of failure it keeps a window for (tests). */
  int kinds() {
    return windows.size();
  }
}
