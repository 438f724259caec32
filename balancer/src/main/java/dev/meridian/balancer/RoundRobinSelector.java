package dev.meridian.balancer;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Picks backends in turn, skipping those that are unavailable or excluded: strategy
 * {@code round-robin}.
 *
 * <p>Each pick starts one place after the previous one, so with every backend available each gets
 * exactly one request in every {@code n}; an unavailable backend's turn goes to the next one. A pick
 * for a request that already tried one of these backends (a retry, a hedge: its context excludes it)
 * takes the next backend without moving the turn: it moved for the request's first pick here. Moving it again put
 * every first pick back on the same backend of two (the slow one a hedge was for, on every request).
 */
public final class RoundRobinSelector implements BackendSelector {
  private final Backend[] backends;
  private final HealthView health;
  private final AtomicInteger next = new AtomicInteger();

  /** Creates a selector over the given backends, consulting health on every pick. */
  public RoundRobinSelector(List<Backend> backends, HealthView health) {
    this.backends = backends.toArray(new Backend[0]);
    this.health = health;
  }

  @Override
  public Backend select(SelectionContext context) {
    int n = backends.length;
    if (n == 0) {
      return null;
    }
    int start = Math.floorMod(triedHere(context) ? next.get() : next.getAndIncrement(), n);
    for (int i = 0; i < n; i++) {
      Backend candidate = backends[(start + i) % n];
      if (!context.isExcluded(candidate) && health.isAvailable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /**
   * Whether the request already tried one of these backends (so this pick is its retry or hedge here);
   * a retry that comes over from another region's backends is this selector's first pick for it.
   */
  private boolean triedHere(SelectionContext context) {
    if (context.excludedCount() == 0) {
      return false;
    }
    for (Backend b : backends) {
      if (context.isExcluded(b)) {
        return true;
      }
    }
    return false;
  }
}
