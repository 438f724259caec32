package dev.meridian.health;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.HealthView;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The health state of every backend, written by its owners (active checks, outlier detection, an
 * operator draining a backend) and read by selectors through {@link HealthView}.
 *
 * <p>A backend is available unless some owner marked it out; each owner's mark is kept separately,
 * with its reason, so one owner's recovery does not undo another's verdict. Thread-safe.
 */
public final class HealthRegistry implements HealthView {
  private final ConcurrentHashMap<String, Map<String, String>> outByBackend = new ConcurrentHashMap<>();

  @Override
  public boolean isAvailable(Backend backend) {
    Map<String, String> out = outByBackend.get(backend.id());
    return out == null || out.isEmpty();
  }

  /**
   * Marks a backend out of rotation.
   *
   * @param backendId the backend
   * @param owner     who decided ({@code active-check}, {@code outlier}, {@code operator})
   * @param reason    why, for the admin API and logs
   */
  public void markOut(String backendId, String owner, String reason) {
    outByBackend.computeIfAbsent(backendId, id -> new ConcurrentHashMap<>()).put(owner, reason);
  }

  /** Withdraws one owner's mark; the backend is available again when no mark is left. */
  public void clear(String backendId, String owner) {
    Map<String, String> out = outByBackend.get(backendId);
    if (out != null) {
      out.remove(owner);
    }
  }

  /** The marks on a backend, owner to reason; empty when it is available. */
  public Map<String, String> reasons(String backendId) {
    Map<String, String> out = outByBackend.get(backendId);
    return out == null ? Map.of() : Map.copyOf(out);
  }
}
