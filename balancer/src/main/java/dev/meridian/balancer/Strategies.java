package dev.meridian.balancer;

import java.util.List;
import java.util.Set;

/** Builds the {@link BackendSelector} a group's {@code strategy} names. */
public final class Strategies {
  /** The strategy names the configuration accepts. */
  public static final Set<String> NAMES = Set.of("round-robin");

  private Strategies() {}

  /**
   * Creates the selector for a strategy name.
   *
   * @throws IllegalArgumentException when the name is not one of {@link #NAMES}
   */
  public static BackendSelector create(String strategy, List<Backend> backends, HealthView health) {
    switch (strategy) {
      case "round-robin":
        return new RoundRobinSelector(backends, health);
      default:
        throw new IllegalArgumentException(
            "strategy: '" + strategy + "' (expected: one of " + NAMES + ")");
    }
  }
}
