package dev.meridian.balancer;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;

/** Builds the {@link BackendSelector} a group's {@code strategy} names. */
public final class Strategies {
  /** The strategy names the configuration accepts, in documentation order. */
  public static final Set<String> NAMES = Collections.unmodifiableSet(new LinkedHashSet<>(
      List.of("round-robin", "weighted", "least-request", "peak-ewma", "consistent-hash")));

  private Strategies() {}

  /**
   * Creates the selector for a strategy name.
   *
   * <ul>
   *   <li>{@code round-robin}: {@link RoundRobinSelector}</li>
   *   <li>{@code weighted}: {@link WeightedSelector} (smooth weighted round robin)</li>
   *   <li>{@code least-request}: {@link LeastRequestSelector} (P2C on in-flight)</li>
   *   <li>{@code peak-ewma}: {@link PeakEwmaSelector} (P2C on latency x in-flight)</li>
   *   <li>{@code consistent-hash}: {@link ConsistentHashSelector} (Maglev or ring, bounded load)</li>
   * </ul>
   *
   * @param backends the backends to pick from
   * @param health   consulted on every pick
   * @param stats    latency and in-flight per backend, fed by the proxy; must know every backend
   * @param options  hashing, bounded load and randomness ({@link StrategyOptions#DEFAULTS} for defaults)
   * @throws IllegalArgumentException when the name is not one of {@link #NAMES}
   */
  public static BackendSelector create(String strategy, List<Backend> backends, HealthView health,
      GroupStats stats, StrategyOptions options) {
    switch (strategy) {
      case "round-robin":
        return new RoundRobinSelector(backends, health);
      case "weighted":
        return new WeightedSelector(backends, health);
      case "least-request":
        return new LeastRequestSelector(backends, health, stats, options.random());
      case "peak-ewma":
        return new PeakEwmaSelector(backends, health, stats, options.random());
      case "consistent-hash":
        return new ConsistentHashSelector(backends, health, stats,
            ConsistentHashSelector.Algorithm.of(options.hashing()), options.boundedLoad(), options.random());
      default:
        throw unknown(strategy);
    }
  }

  /**
   * Creates the selector for a strategy name with default options and fresh {@link GroupStats} on the
   * system clock. Convenient for strategies that need no feedback (round-robin, weighted); the
   * load-aware ones only see load when the proxy feeds the same stats, so pass them with
   * {@link #create(String, List, HealthView, GroupStats, StrategyOptions)}.
   *
   * @throws IllegalArgumentException when the name is not one of {@link #NAMES}
   */
  public static BackendSelector create(String strategy, List<Backend> backends, HealthView health) {
    return create(strategy, backends, health, new GroupStats(backends), StrategyOptions.DEFAULTS);
  }

  /**
   * A factory building the named strategy over any subset of the group (one region's backends, say) and
   * a health view, all sharing the group's stats; the shape {@link RegionalSelector} takes. The name is
   * checked now.
   *
   * @throws IllegalArgumentException when the name is not one of {@link #NAMES}
   */
  public static BiFunction<List<Backend>, HealthView, BackendSelector> factory(String strategy,
      GroupStats stats, StrategyOptions options) {
    if (!NAMES.contains(strategy)) {
      throw unknown(strategy);
    }
    return (backends, health) -> create(strategy, backends, health, stats, options);
  }

  private static IllegalArgumentException unknown(String strategy) {
    return new IllegalArgumentException("strategy: '" + strategy + "' (expected: one of " + NAMES + ")");
  }
}
