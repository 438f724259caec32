package dev.meridian.proxy.regions;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The time limits on operators' run-time changes (a region's dial, an ejection, an injected fault):
 * each limited change registers how to undo itself, and {@link #sweep()} (called about once a second)
 * undoes those whose time is up. A drill gives every change it makes a limit, so a drill that dies
 * cannot leave a region drained or faulty. Thread-safe; the caller serializes changes and sweeps when
 * an undo must not interleave with a change under the same key.
 */
public final class OperatorOverrides {
  private record Pending(long deadlineNanos, Runnable undo) {}

  private final ConcurrentHashMap<String, Pending> pending = new ConcurrentHashMap<>();
  private final LongSupplier clock;

  /** Creates an empty set of limits on the given nanosecond clock. */
  public OperatorOverrides(LongSupplier clock) {
    this.clock = clock;
  }

  /**
   * Undoes the change named {@code key} (e.g. {@code fault app/eu-west}) after {@code ttlNanos}. A
   * change made while an earlier one under the same key is still limited renews the deadline but
   * keeps the earlier undo, so what comes back is the state before the first of them.
   */
  public void limit(String key, long ttlNanos, Runnable undo) {
    Pending next = new Pending(clock.getAsLong() + ttlNanos, undo);
    pending.merge(key, next, (earlier, later) -> new Pending(later.deadlineNanos(), earlier.undo()));
  }

  /** Forgets the limit of a change that was undone or replaced by hand. */
  public void forget(String key) {
    pending.remove(key);
  }

  /** Undoes every change whose time is up. */
  public void sweep() {
    long now = clock.getAsLong();
    pending.forEach((key, p) -> {
      if (now - p.deadlineNanos() >= 0 && pending.remove(key, p)) {
        p.undo().run();
      }
    });
  }

  /** The changes with a limit and the milliseconds each has left, by key. */
  public Map<String, Long> remainingMillis() {
    long now = clock.getAsLong();
    Map<String, Long> out = new TreeMap<>();
    pending.forEach((key, p) -> out.put(key, Math.max(0, (p.deadlineNanos() - now) / 1_000_000)));
    return out;
  }
}
