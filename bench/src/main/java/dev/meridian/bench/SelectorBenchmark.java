package dev.meridian.bench;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendSelector;
import dev.meridian.balancer.GroupStats;
import dev.meridian.balancer.SelectionContext;
import dev.meridian.balancer.Strategies;
import dev.meridian.balancer.StrategyOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Measures one backend pick per strategy over groups of 10, 100 and 1000 backends, with latency and
 * in-flight stats already fed and every tenth backend unavailable (health is a boolean array read); {@code -prof gc} shows the pick
 * allocates nothing ({@code gc.alloc.rate.norm} = 0 B/op).
 *
 * <p>Run: {@code mvn -q -DskipTests package && java -jar bench/target/benchmarks.jar SelectorBenchmark -prof gc}.
 * {@code consistent-hash:ring} is consistent hashing with the ring instead of the Maglev table.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SelectorBenchmark {
  @Param({"round-robin", "weighted", "least-request", "peak-ewma", "consistent-hash", "consistent-hash:ring"})
  public String strategy;

  @Param({"10", "100", "1000"})
  public int backends;

  private BackendSelector selector;
  private final SelectionContext context = new SelectionContext();
  private long key;

  /** Builds the group, feeds every backend a latency (1-50 ms) and 0-3 requests in flight. */
  @Setup
  public void setUp() {
    List<Backend> group = new ArrayList<>();
    for (int i = 0; i < backends; i++) {
      group.add(new Backend("b" + i, "10.0." + (i / 250) + "." + (i % 250 + 1), 8080, "r", 1 + i % 4));
    }
    GroupStats stats = new GroupStats(group);
    SplittableRandom random = new SplittableRandom(1);
    for (Backend b : group) {
      stats.of(b).observe(1_000_000L * (1 + random.nextInt(50)));
      for (int k = random.nextInt(4); k > 0; k--) {
        stats.of(b).requestStarted();
      }
    }
    boolean[] down = new boolean[backends];
    for (int i = 0; i < backends; i += 10) {
      down[i] = true;
    }
    String[] parts = strategy.split(":");
    StrategyOptions options = parts.length > 1 ? StrategyOptions.DEFAULTS.withHashing(parts[1]) : StrategyOptions.DEFAULTS;
    selector = Strategies.create(parts[0], group, b -> !down[BackendIds.indexOf(b)], stats, options);
  }

  /** One pick for a request with a fresh hash key (used by consistent-hash, ignored by the others). */
  @Benchmark
  public Backend select() {
    context.reset();
    context.hashKey(key++ * 0x9E3779B97F4A7C15L);
    return selector.select(context);
  }
}
