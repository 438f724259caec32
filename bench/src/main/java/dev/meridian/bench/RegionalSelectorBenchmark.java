package dev.meridian.bench;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.GroupStats;
import dev.meridian.balancer.RegionPolicy;
import dev.meridian.balancer.RegionalSelector;
import dev.meridian.balancer.RoundRobinSelector;
import dev.meridian.balancer.SelectionContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * Measures one regional pick (region order, capacities, spill-over draw, then round robin inside the
 * region) over three regions of four backends, reusing one {@link SelectionContext} as an event loop
 * would: {@code -prof gc} shows whether the regional layer allocates ({@code gc.alloc.rate.norm}).
 *
 * <p>Cases: {@code table} (failover table, all healthy), {@code spill} (the client's region half
 * down, 30% spills), {@code dynamic} (no table: client, local, then by latency), {@code ryw} (a read
 * in a read-your-writes window: writer region first).
 *
 * <p>Run: {@code mvn -q -DskipTests package && java -jar bench/target/benchmarks.jar RegionalSelectorBenchmark -prof gc}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RegionalSelectorBenchmark {
  @Param({"table", "spill", "dynamic", "ryw"})
  public String scenario;

  private RegionalSelector selector;
  private final SelectionContext context = new SelectionContext();
  private final boolean[] down = new boolean[12];

  @Setup
  public void setUp() {
    List<Backend> backends = new ArrayList<>();
    for (String region : List.of("us-east", "eu-west", "ap-south")) {
      for (int i = 0; i < 4; i++) {
        backends.add(new Backend("b" + backends.size(), "10.0.0." + (backends.size() + 1), 8080, region, 1));
      }
    }
    GroupStats stats = new GroupStats(backends);
    for (int i = 0; i < backends.size(); i++) {
      stats.of(backends.get(i)).observe(1_000_000L * (5 + 20 * (i / 4)));
    }
    Map<String, List<String>> failover = scenario.equals("dynamic") ? Map.of() : Map.of(
        "eu-west", List.of("eu-west", "us-east", "ap-south"),
        "default", List.of("us-east", "eu-west", "ap-south"));
    Optional<String> writer = scenario.equals("ryw") ? Optional.of("us-east") : Optional.empty();
    RegionPolicy policy = new RegionPolicy(failover, 1.4, 0, writer, Optional.of("us-east"), 0.5);
    if (scenario.equals("spill")) {
      down[4] = true;
      down[5] = true;
    }
    selector = new RegionalSelector(backends, b -> !down[BackendIds.indexOf(b)], stats, policy, RoundRobinSelector::new);
  }

  /** One pick for an eu-west client. */
  @Benchmark
  public Backend select() {
    context.reset();
    context.clientRegion("eu-west");
    if (scenario.equals("ryw")) {
      context.readYourWrites(true);
    }
    return selector.select(context);
  }
}
