package dev.meridian.health;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.HealthView;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The health state of the backends of one group, written by their owners (active checks, outlier detection, an
 * operator draining a backend) and read by selectors through {@link HealthView}.
 *
 * <p>Marks are keyed by backend id within the group: the proxy keeps one registry per group, so a
 * backend listed in two groups (checked on a different path, say) has separate state in each.
 *
 * <p>A backend is available unless some owner marked it out; each owner's mark is kept separately,
 * with its reason, so one owner's recovery does not undo another's verdict.
 *
 * <p>Replication lag, reported by active checks, is kept beside the marks: a backend whose lag is over
 * a limit stays available for writes but is skipped by {@link #readView(Duration)}, the view the proxy
 * gives to read requests' selectors. A backend with unknown lag (never reported) counts as caught up.
 *
 * <p>Thread-safe. Reads ({@link #isAvailable}) take no lock; writes to the marks are serialized so
 * {@link Listener}s see each transition once and in order.
 */
public final class HealthRegistry implements HealthView {
  /** Told when a backend becomes available or unavailable (e.g. to start a slow start ramp). */
  @FunctionalInterface
  public interface Listener {
    /**
     * The backend's availability changed. Called under the registry's write lock, from whichever
     * thread changed it: must be quick and must not write to the registry.
     */
    void availabilityChanged(String backendId, boolean available);
  }

  /**
   * The owner of an operator's drain mark: the backend takes no new requests, but sticky sessions
   * pinned to it still reach it ({@link #isAvailableToPinned}) until the mark is joined by another.
   */
  public static final String DRAINING = "draining";

  private final ConcurrentHashMap<String, Map<String, String>> outByBackend = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Duration> lagByBackend = new ConcurrentHashMap<>();
  private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();

  @Override
  public boolean isAvailable(Backend backend) {
    return isAvailable(backend.id());
  }

  /** Whether no owner has marked the backend out. */
  public boolean isAvailable(String backendId) {
    Map<String, String> out = outByBackend.get(backendId);
    return out == null || out.isEmpty();
  }

  /** Available, or marked out by nothing but a {@link #DRAINING} mark. */
  @Override
  public boolean isAvailableToPinned(Backend backend) {
    Map<String, String> out = outByBackend.get(backend.id());
    return out == null || out.isEmpty() || (out.size() == 1 && out.containsKey(DRAINING));
  }

  /**
   * Marked out by nothing but checks' verdicts (active checks, outlier detection), which panic mode
   * overrides; a mark of any other owner (an operator's drain or ejection) holds in panic too.
   */
  @Override
  public boolean mayServeInPanic(Backend backend) {
    Map<String, String> out = outByBackend.get(backend.id());
    if (out == null) {
      return true;
    }
    for (String owner : out.keySet()) {
      if (!owner.equals(ActiveHealthChecker.OWNER) && !owner.equals(OutlierDetector.OWNER)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Marks a backend out of rotation (replacing this owner's earlier reason, if any).
   *
   * @param backendId the backend
   * @param owner     who decided ({@code active-check}, {@code outlier}, {@code operator})
   * @param reason    why, for the admin API and logs
   */
  public synchronized void markOut(String backendId, String owner, String reason) {
    Objects.requireNonNull(reason, "reason");
    Map<String, String> out = outByBackend.computeIfAbsent(backendId, id -> new ConcurrentHashMap<>());
    boolean wasAvailable = out.isEmpty();
    out.put(owner, reason);
    if (wasAvailable) {
      notifyListeners(backendId, false);
    }
  }

  /** Withdraws one owner's mark; the backend is available again when no mark is left. */
  public synchronized void clear(String backendId, String owner) {
    Map<String, String> out = outByBackend.get(backendId);
    if (out != null && out.remove(owner) != null && out.isEmpty()) {
      notifyListeners(backendId, true);
    }
  }

  /** The marks on a backend, owner to reason; empty when it is available. */
  public Map<String, String> reasons(String backendId) {
    Map<String, String> out = outByBackend.get(backendId);
    return out == null ? Map.of() : Map.copyOf(out);
  }

  /** Subscribes to availability changes. */
  public void addListener(Listener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Unsubscribes (e.g. when a reload replaces the group's slow start). */
  public void removeListener(Listener listener) {
    listeners.remove(listener);
  }

  /** Records the backend's replication lag as last reported; null forgets it (lag unknown). */
  public void setReplicationLag(String backendId, Duration lag) {
    if (lag == null) {
      lagByBackend.remove(backendId);
    } else {
      lagByBackend.put(backendId, lag);
    }
  }

  /** The backend's last reported replication lag; empty when unknown. */
  public Optional<Duration> replicationLag(String backendId) {
    return Optional.ofNullable(lagByBackend.get(backendId));
  }

  /** Whether the backend is available and its replication lag (if known) is at most {@code maxLag}. */
  public boolean isAvailableForReads(Backend backend, Duration maxLag) {
    if (!isAvailable(backend.id())) {
      return false;
    }
    Duration lag = lagByBackend.get(backend.id());
    return lag == null || lag.compareTo(maxLag) <= 0;
  }

  /**
   * The view for read requests: available backends whose replication lag is at most {@code maxLag}.
   * This registry itself is the view for writes (lag ignored).
   */
  public HealthView readView(Duration maxLag) {
    Objects.requireNonNull(maxLag, "maxLag");
    return new HealthView() {
      @Override
      public boolean isAvailable(Backend backend) {
        return isAvailableForReads(backend, maxLag);
      }

      @Override
      public boolean isAvailableToPinned(Backend backend) {
        Duration lag = lagByBackend.get(backend.id());
        return HealthRegistry.this.isAvailableToPinned(backend) && (lag == null || lag.compareTo(maxLag) <= 0);
      }

      @Override
      public boolean mayServeInPanic(Backend backend) {
        return HealthRegistry.this.mayServeInPanic(backend);
      }
    };
  }

  private void notifyListeners(String backendId, boolean available) {
    for (Listener l : listeners) {
      l.availabilityChanged(backendId, available);
    }
  }
}
