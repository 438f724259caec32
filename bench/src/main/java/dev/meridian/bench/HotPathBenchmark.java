package dev.meridian.bench;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.HealthView;
import dev.meridian.balancer.RoundRobinSelector;
import dev.meridian.balancer.SelectionContext;
import dev.meridian.proxy.http.HeaderSettings;
import dev.meridian.proxy.http.RequestHeadRewriter;
import dev.meridian.proxy.routing.HostPattern;
import dev.meridian.proxy.regions.RegionCounters;
import dev.meridian.proxy.regions.RegionFaults;
import dev.meridian.proxy.regions.RegionTraffic;
import dev.meridian.proxy.routing.Route;
import dev.meridian.proxy.routing.Router;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Measures the per-request pieces of the forwarding path that do not touch a socket: route match,
 * backend pick, request head rewrite and the per-region bookkeeping.
 *
 * <p>Run: {@code mvn -q -DskipTests package && java -jar bench/target/benchmarks.jar HotPath -prof gc}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HotPathBenchmark {
  private Router router;
  private RoundRobinSelector selector;
  private RequestHeadRewriter rewriter;
  private final SelectionContext context = new SelectionContext();
  private final RegionTraffic traffic = new RegionTraffic();
  private final RegionFaults faults = new RegionFaults();
  private long latency;

  /** Builds twenty routes (the match is the last), ten backends and a rewriter. */
  @Setup
  public void setUp() {
    List<Backend> backends = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      backends.add(new Backend("b" + i, "127.0.0.1", 9000 + i, "us-east", 1));
    }
    BackendGroup group = new BackendGroup("app", backends);
    selector = new RoundRobinSelector(backends, HealthView.ALL_AVAILABLE);
    List<Route> routes = new ArrayList<>();
    for (int i = 0; i < 19; i++) {
      routes.add(new Route("r" + i, HostPattern.parse("svc" + i + ".example.com"), "/api/v" + i + "/",
          Set.of("GET"), group, selector, false, Set.of(), Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ZERO, null, null, null, null, null, null));
    }
    routes.add(new Route("default", HostPattern.parse("*.example.com"), "/", Set.of(), group, selector,
        false, Set.of("websocket"), Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ZERO, null, null, null, null, null, null));
    router = new Router(routes);
    rewriter = new RequestHeadRewriter(new HeaderSettings("meridian", true, true, "X-Request-Id"));
  }

  @Benchmark
  public Route routeMatchLastOfTwenty() {
    return router.match("www.example.com", "/index.html", "GET");
  }

  @Benchmark
  public Backend roundRobinPick() {
    return selector.select(context);
  }

  @Benchmark
  public HttpRequest rewriteRequestHead() {
    HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/index.html");
    request.headers().set("Host", "www.example.com").set("Connection", "keep-alive")
        .set("User-Agent", "bench").set("Accept", "*/*");
    rewriter.rewrite(request, "192.0.2.10", "http", "127.0.0.1:9000", false, null);
    return request;
  }

  /**
   * The region bookkeeping each request does: the fault lookup and the pick count when a backend is
   * chosen, and the outcome (status, latency bucket) when it finishes.
   */
  @Benchmark
  public Object regionBookkeeping() {
    Object fault = faults.of("eu-west");
    RegionCounters counters = traffic.of("eu-west");
    counters.picked();
    counters.record(200, false, false, 1_000_000 + (latency++ & 0xffff) * 1000);
    return fault;
  }
}
