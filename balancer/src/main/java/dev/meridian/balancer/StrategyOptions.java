package dev.meridian.balancer;

import java.util.random.RandomGenerator;

/**
 * The settings a group's strategy may take beyond its backends: what {@link Strategies#create} passes
 * to the selector it builds. Strategies ignore the settings they do not use.
 *
 * @param hashing     {@code consistent-hash} only: {@code maglev} (default) or {@code ring}
 * @param boundedLoad {@code consistent-hash} only: bounded-load factor, at least 1 (default 1.25;
 *                    {@link Double#POSITIVE_INFINITY} for no bound)
 * @param random      random source of the power-of-two-choices strategies; null (the default) for
 *                    {@link java.util.concurrent.ThreadLocalRandom}. Tests inject a seeded generator.
 */
public record StrategyOptions(String hashing, double boundedLoad, RandomGenerator random) {
  /** Maglev hashing, bounded load 1.25, thread-local randomness. */
  public static final StrategyOptions DEFAULTS =
      new StrategyOptions("maglev", ConsistentHashSelector.DEFAULT_BOUNDED_LOAD, null);

  /** Checks the hashing name and the bounded-load factor. */
  public StrategyOptions {
    ConsistentHashSelector.Algorithm.of(hashing);
    if (!(boundedLoad >= 1)) {
      throw new IllegalArgumentException("bounded-load: " + boundedLoad + " (expected: >= 1, or infinity for none)");
    }
  }

  /** These options with another hashing algorithm ({@code maglev} or {@code ring}). */
  public StrategyOptions withHashing(String name) {
    return new StrategyOptions(name, boundedLoad, random);
  }

  /** These options with another bounded-load factor. */
  public StrategyOptions withBoundedLoad(double factor) {
    return new StrategyOptions(hashing, factor, random);
  }

  /** These options with another random source (null for ThreadLocalRandom). */
  public StrategyOptions withRandom(RandomGenerator generator) {
    return new StrategyOptions(hashing, boundedLoad, generator);
  }
}
