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
}
