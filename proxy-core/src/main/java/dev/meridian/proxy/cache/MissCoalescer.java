package dev.meridian.proxy.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Collapses concurrent misses for one key into one origin request: the first request to miss leads
 * (it goes to the origin and its answer fills the entry), the others wait for the leader's answer and
 * are told when it is stored ({@link Waiter#filled}), or that it was not ({@link Waiter#failed}: then
 * each goes to the origin itself). A fill whose leader has not finished within {@code abandonAfter}
 * no longer collects waiters: the next miss leads a new one.
 *
 * <p>A key whose answer could not be stored (no-store, private, Set-Cookie, too large, ...) stops
 * collapsing misses for {@link #UNCACHEABLE_MEMORY_NANOS} (Varnish's hit-for-miss): otherwise every
 * burst of requests for a URL that is never stored would wait behind one of them and then go to the
 * origin anyway, each taking twice the origin's time. Its misses still store an answer that may be,
 * which ends the memory. Thread-safe.
 */
public final class MissCoalescer {
  /** How long misses for a key whose answer was not stored go to the origin side by side: 2 minutes. */
  public static final long UNCACHEABLE_MEMORY_NANOS = TimeUnit.MINUTES.toNanos(2);
  /** Most keys remembered as not stored (a bounded memory: the least used are forgotten first). */
  static final int UNCACHEABLE_KEYS = 10_000;

  /** A request waiting for a leader's answer. Called on the thread that finished the fill. */
  public interface Waiter {
    /** The leader's answer was stored: answer from it. */
    void filled(CachedResponse entry);

    /** The leader's answer was not stored (or it failed): go to the origin. */
    void failed();
  }

  private final ConcurrentHashMap<String, Fill> inFlight = new ConcurrentHashMap<>();
  /** Keys whose last answer was not stored, with when that was (nanoseconds on the cache's clock). */
  private final Cache<String, Long> uncacheable = Caffeine.newBuilder().maximumSize(UNCACHEABLE_KEYS)
      .executor(Runnable::run).build();
  private final long abandonAfterNanos;

  /** @param abandonAfterNanos how long a fill may collect waiters (the routes' response timeout) */
  public MissCoalescer(long abandonAfterNanos) {
    this.abandonAfterNanos = abandonAfterNanos;
  }

  /** One origin request that misses for a key wait on. */
  public final class Fill {
    private final String key;
    private final long startedNanos;
    private List<Waiter> waiters = new ArrayList<>();

    private Fill(String key, long startedNanos) {
      this.key = key;
      this.startedNanos = startedNanos;
    }

    /**
     * Waits for the fill.
     *
     * @return false when it already finished (the caller looks up the cache again, or goes to the origin)
     */
    public synchronized boolean await(Waiter waiter) {
      if (waiters == null) {
        return false;
      }
      waiters.add(waiter);
      return true;
    }

    /** Stops waiting (the waiter gave up or its client left); returns whether it was still waiting. */
    public synchronized boolean leave(Waiter waiter) {
      return waiters != null && waiters.remove(waiter);
    }

    /** Ends the fill: with the stored entry, or null when nothing was stored. Idempotent. */
    public void finish(CachedResponse entry) {
      List<Waiter> told;
      synchronized (this) {
        told = waiters;
        waiters = null;
      }
      inFlight.remove(key, this);
      if (told == null) {
        return;
      }
      for (Waiter w : told) {
        if (entry != null) {
          w.filled(entry);
        } else {
          w.failed();
        }
      }
    }

    private synchronized boolean isOpen(long nowNanos) {
      return waiters != null && nowNanos - startedNanos < abandonAfterNanos;
    }
  }

  /**
   * A miss's part in the fill of its key.
   *
   * @param fill  the fill in flight for the key
   * @param leads whether the caller leads it: it goes to the origin and must {@link Fill#finish} it;
   *              otherwise it may {@link Fill#await} it
   */
  public record Role(Fill fill, boolean leads) {}

  /**
   * The fill in flight for a key that may still be waited for, or null: for a request that may wait
   * for another's answer but must not lead a fill of its own (one that says no-store).
   */
  public Fill inFlight(String key, long nowNanos) {
    Fill current = inFlight.get(key);
    return current != null && current.isOpen(nowNanos) ? current : null;
  }

  /** Joins the fill in flight for a key, or leads a new one (when there is none, or it is too old). */
  public Role join(String key, long nowNanos) {
    while (true) {
      Fill current = inFlight.get(key);
      if (current != null && current.isOpen(nowNanos)) {
        return new Role(current, false);
      }
      Fill fresh = new Fill(key, nowNanos);
      if (current == null ? inFlight.putIfAbsent(key, fresh) == null : inFlight.replace(key, current, fresh)) {
        return new Role(fresh, true);
      }
    }
  }

  /**
   * Whether misses for a key collapse into one origin request: not for {@link #UNCACHEABLE_MEMORY_NANOS}
   * after an answer for it was not stored.
   */
  public boolean coalesces(String key, long nowNanos) {
    Long notStoredAt = uncacheable.getIfPresent(key);
    if (notStoredAt == null) {
      return true;
    }
    if (nowNanos - notStoredAt < UNCACHEABLE_MEMORY_NANOS) {
      return false;
    }
    uncacheable.asMap().remove(key, notStoredAt);
    return true;
  }

  /** The origin's answer for a key was not stored: its misses stop collapsing for a while. */
  public void notStored(String key, long nowNanos) {
    uncacheable.put(key, nowNanos);
  }

  /** An answer for the key was stored: its misses collapse again. */
  public void stored(String key) {
    if (uncacheable.estimatedSize() > 0) {
      uncacheable.invalidate(key);
    }
  }

  /** How many fills are in flight (tests, metrics). */
  public int inFlight() {
    return inFlight.size();
  }
}
