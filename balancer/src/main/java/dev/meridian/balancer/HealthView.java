package dev.meridian.balancer;

/**
 * Read-only answer to "may a request be sent to this backend now?", written by health checks and
 * outlier detection, read by selectors at pick time.
 *
 * <p>Implementations must be cheap and thread-safe: selectors call this on every pick, from any
 * event loop.
 */
@FunctionalInterface
public interface HealthView {

  /** A view in which every backend is available. */
  HealthView ALL_AVAILABLE = backend -> true;

  /** Whether the backend may receive new requests. */
  boolean isAvailable(Backend backend);

  /**
   * Whether the backend may receive requests of sticky sessions pinned to it: it is available, or
   * only draining (it keeps its sessions but takes no new ones). Default: {@link #isAvailable}.
   */
  default boolean isAvailableToPinned(Backend backend) {
    return isAvailable(backend);
  }

  /**
   * Whether the backend may take requests when its group is in panic mode (too few healthy backends,
   * so health checks' verdicts are ignored): not when an operator took it out (drained, ejected),
   * which panic must not undo. Default: true.
   */
  default boolean mayServeInPanic(Backend backend) {
    return true;
  }
}
