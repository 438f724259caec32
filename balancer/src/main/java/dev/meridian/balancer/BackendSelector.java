package dev.meridian.balancer;

/**
 * Picks the backend of one group that a request goes to.
 *
 * <p>A selector never learns why a backend is unavailable: it asks its {@link HealthView} at pick
 * time and skips backends the context excludes. Implementations are thread-safe and do not allocate
 * per pick.
 */
@FunctionalInterface
public interface BackendSelector {

  /**
   * Picks a backend for the request described by the context.
   *
   * @return the backend, or null when no backend of the group is usable
   */
  Backend select(SelectionContext context);
}
