package dev.meridian.proxy.upstream;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A group's per-backend concurrency limit ({@code backend-groups.NAME.limits}): how many requests each
 * backend is sent at once, and a bounded queue where requests wait for one of a full backend's slots.
 *
 * <p>A request takes a slot of its backend before it takes a connection and gives it back when its
 * exchange with that backend ends (answered, failed or abandoned). When the backend is full it may
 * {@linkplain Slot#enqueue wait}: a slot given back goes to the oldest waiter of that backend, on the
 * waiter's own event loop. At most {@code maxQueued} requests of the group wait at once, each for a
 * bounded time; a waiter whose request ends early {@linkplain Ticket#cancel cancels} its ticket.
 *
 * <p>Shared by every event loop: counts are atomic and the queues lock-free. Limits may change at a
 * reload; slots held under the old limit stay held until given back.
 */
public final class BackendSlots {
  private final ConcurrentHashMap<String, Slot> byBackend = new ConcurrentHashMap<>();
  private final AtomicInteger queued = new AtomicInteger();
  private volatile int maxPerBackend;
  private volatile int maxQueued;

  /** Creates the limit: {@code maxPerBackend} requests per backend at once, {@code maxQueued} waiting. */
  public BackendSlots(int maxPerBackend, int maxQueued) {
    limits(maxPerBackend, maxQueued);
  }

  /** Sets new limits (a reload); slots held and requests waiting are kept. */
  public void limits(int maxPerBackend, int maxQueued) {
    if (maxPerBackend < 1 || maxQueued < 0) {
      throw new IllegalArgumentException("maxPerBackend " + maxPerBackend + ", maxQueued " + maxQueued);
    }
    this.maxPerBackend = maxPerBackend;
    this.maxQueued = maxQueued;
    // A higher limit frees room for waiters at once.
    byBackend.values().forEach(Slot::dispatch);
  }

  /** Requests one backend is sent at once. */
  public int maxPerBackend() {
    return maxPerBackend;
  }

  /** The slots of the backend with this id. */
  public Slot of(String backendId) {
    Slot slot = byBackend.get(backendId);
    return slot != null ? slot : byBackend.computeIfAbsent(backendId, Slot::new);
  }

  /** Requests of the group waiting for a slot now. */
  public int queued() {
    return queued.get();
  }

  /** One backend's slots and the requests waiting for them. */
  public final class Slot {
    private final String backendId;
    private final AtomicInteger busy = new AtomicInteger();
    private final ConcurrentLinkedQueue<Ticket> waiting = new ConcurrentLinkedQueue<>();

    private Slot(String backendId) {
      this.backendId = backendId;
    }

    /** The backend's id. */
    public String backendId() {
      return backendId;
    }

    /** Slots in use now. */
    public int busy() {
      return busy.get();
    }

    /** Requests waiting for one of this backend's slots now. */
    public int waiting() {
      return waiting.size();
    }

    /** Takes a slot if the backend has one free (and nobody waits for it); returns whether it did. */
    public boolean tryTake() {
      return waiting.isEmpty() && take();
    }

    private boolean take() {
      int max = maxPerBackend;
      for (int n = busy.get(); n < max; n = busy.get()) {
        if (busy.compareAndSet(n, n + 1)) {
          return true;
        }
      }
      return false;
    }

    /** Gives back a slot taken by {@link #tryTake} or granted to a ticket; the oldest waiter gets it. */
    public void release() {
      busy.decrementAndGet();
      dispatch();
    }

    /**
     * Waits for a slot: {@code onGranted} runs on {@code loop} once the slot is the caller's (who then
     * owns it and gives it back with {@link #release}); {@code onExpired} runs there instead when no
     * slot came within {@code timeoutNanos}. Returns null when the group's queue is full.
     */
    public Ticket enqueue(EventExecutor loop, long timeoutNanos, Runnable onGranted, Runnable onExpired) {
      for (int n = queued.get(); ; n = queued.get()) {
        if (n >= maxQueued) {
          return null;
        }
        if (queued.compareAndSet(n, n + 1)) {
          break;
        }
      }
      Ticket ticket = new Ticket(this, loop, onGranted);
      ticket.timer = loop.schedule(() -> {
        if (ticket.cancel()) {
          onExpired.run();
        }
      }, timeoutNanos, TimeUnit.NANOSECONDS);
      waiting.add(ticket);
      // A slot given back between the caller's tryTake and this add found nobody waiting: look again.
      dispatch();
      return ticket;
    }

    /** Hands free slots to waiters, oldest first, skipping those that gave up. */
    void dispatch() {
      while (!waiting.isEmpty() && take()) {
        Ticket next = waiting.poll();
        if (next == null || !next.grant()) {
          busy.decrementAndGet(); // nobody (left) to take it: give it back and look again
        }
      }
    }
  }

  /** A request waiting for a slot. */
  public final class Ticket {
    private static final int WAITING = 0;
    private static final int GRANTED = 1;
    private static final int CANCELLED = 2;

    private final Slot slot;
    private final EventExecutor loop;
    private final Runnable onGranted;
    private final AtomicInteger state = new AtomicInteger(WAITING);
    private volatile Future<?> timer;

    private Ticket(Slot slot, EventExecutor loop, Runnable onGranted) {
      this.slot = slot;
      this.loop = loop;
      this.onGranted = onGranted;
    }

    private boolean grant() {
      if (!state.compareAndSet(WAITING, GRANTED)) {
        return false;
      }
      queued.decrementAndGet();
      timer.cancel(false);
      try {
        loop.execute(onGranted);
      } catch (java.util.concurrent.RejectedExecutionException stopping) {
        slot.busy.decrementAndGet(); // the waiter's loop is shutting down: its request is gone
      }
      return true;
    }

    /**
     * Stops waiting (queue timeout, or the client left). Returns true when the ticket was still
     * waiting; false when a slot was already granted, and so will be handed to {@code onGranted}.
     */
    public boolean cancel() {
      if (!state.compareAndSet(WAITING, CANCELLED)) {
        return false;
      }
      queued.decrementAndGet();
      slot.waiting.remove(this);
      Future<?> pending = timer;
      if (pending != null) {
        pending.cancel(false);
      }
      return true;
    }

    /** The slot this ticket waits for. */
    public Slot slot() {
      return slot;
    }
  }
}
