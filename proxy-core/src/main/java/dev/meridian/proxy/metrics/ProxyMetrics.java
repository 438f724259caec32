package dev.meridian.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The proxy's own metrics in Micrometer: requests by route and status class, upstream response time
 * and connect failures by backend, and open client connections and requests in flight.
 *
 * <p>Meters are looked up once per route or backend and cached, so recording a request allocates
 * nothing. Thread-safe.
 */
public final class ProxyMetrics {
  private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

  private final MeterRegistry registry;
  private final AtomicInteger clientConnections = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final ConcurrentHashMap<String, RouteRequests> requestsByRoute = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> upstreamTimeByBackend = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> failuresByBackendAndKind = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, StickyMeters> stickyByRoute = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, CacheMeters> cacheByRoute = new ConcurrentHashMap<>();

  /** Registers the proxy's gauges in the registry. */
  public ProxyMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("meridian.client.connections", clientConnections, AtomicInteger::get)
        .description("Open client connections").register(registry);
    Gauge.builder("meridian.requests.in.flight", inFlight, AtomicInteger::get)
        .description("Requests received whose response is not complete").register(registry);
  }

  /** Registers a group's panic-mode counter: picks made with health ignored. */
  public void registerGroup(String group, java.util.function.LongSupplier panicPicks) {
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.balancer.panic.picks", panicPicks,
            s -> s.getAsLong())
        .description("Backend picks made in panic mode (too few healthy backends; health ignored)")
        .tag("group", group).register(registry);
  }

  /**
   * Registers a backend's health gauges: whether it is available (1 or 0) and its replication lag in
   * seconds (NaN while unknown).
   */
  public void registerBackendHealth(String group, dev.meridian.balancer.Backend backend,
      dev.meridian.health.HealthRegistry health) {
    Gauge.builder("meridian.backend.available", health, h -> h.isAvailable(backend) ? 1 : 0)
        .description("Whether the backend may receive requests (1) or is out (0)")
        .tag("group", group).tag("backend", backend.id()).tag("region", backend.region()).register(registry);
    Gauge.builder("meridian.backend.replication.lag.seconds", health,
            h -> h.replicationLag(backend.id()).map(d -> d.toNanos() / 1e9).orElse(Double.NaN))
        .description("Replication lag the backend's health check last reported")
        .tag("group", group).tag("backend", backend.id()).register(registry);
  }

  /** A sticky route's counters (registered on first use). */
  public StickyMeters sticky(String route) {
    StickyMeters meters = stickyByRoute.get(route);
    return meters != null ? meters : stickyByRoute.computeIfAbsent(route, r -> new StickyMeters(registry, r));
  }

  /** A cached route's counters (registered on first use). */
  public CacheMeters cache(String route) {
    CacheMeters meters = cacheByRoute.get(route);
    return meters != null ? meters : cacheByRoute.computeIfAbsent(route, r -> new CacheMeters(registry, r));
  }

  /**
   * Registers the edge cache's gauges: {@code meridian_cache_bytes} (held, as weighed for the bound),
   * {@code meridian_cache_entries} and {@code meridian_cache_evictions_total}.
   */
  public void registerCache(dev.meridian.proxy.cache.EdgeCache cache) {
    Gauge.builder("meridian.cache.bytes", cache, c -> c.bytes())
        .description("Bytes the edge cache holds (bodies, headers and overhead)").register(registry);
    Gauge.builder("meridian.cache.entries", cache, c -> c.entryCount())
        .description("Answers the edge cache holds").register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.cache.evictions", cache, c -> c.evictions())
        .description("Entries evicted to keep the edge cache within meridian.cache.max-size").register(registry);
  }

  /** The registry the meters live in. */
  public MeterRegistry registry() {
    return registry;
  }

  public void clientConnectionOpened() {
    clientConnections.incrementAndGet();
  }

  public void clientConnectionClosed() {
    clientConnections.decrementAndGet();
  }

  public void requestStarted() {
    inFlight.incrementAndGet();
  }

  /** Records a finished request on its route's counters (from {@link #routeRequests}). */
  public void requestFinished(RouteRequests route, int status) {
    inFlight.decrementAndGet();
    route.count(status);
  }

  /**
   * A route's request counters, for a caller that keeps them between requests (a connection serving
   * one route after another) and so skips the lookup by name.
   */
  public RouteRequests routeRequests(String route) {
    RouteRequests counters = requestsByRoute.get(route);
    return counters != null ? counters : requestsByRoute.computeIfAbsent(route, this::newRouteRequests);
  }

  private RouteRequests newRouteRequests(String route) {
    Counter[] counters = new Counter[STATUS_CLASSES.length];
    for (int i = 0; i < counters.length; i++) {
      counters[i] = Counter.builder("meridian.requests")
          .description("Requests answered, by route and status class")
          .tag("route", route).tag("status", STATUS_CLASSES[i]).register(registry);
    }
    return new RouteRequests(route, counters);
  }

  /**
   * The timer of a backend's time from sending a request to its response headers, for a caller that
   * keeps it between requests.
   */
  public Timer upstreamResponseTime(String backendId) {
    Timer timer = upstreamTimeByBackend.get(backendId);
    return timer != null ? timer : upstreamTimeByBackend.computeIfAbsent(backendId,
        id -> Timer.builder("meridian.upstream.response.time")
            .description("Time to response headers from a backend")
            .tag("backend", id).publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry));
  }

  /**
   * Counts an upstream failure.
   *
   * @param kind {@code connect}, {@code reset}, {@code timeout} or {@code protocol}
   */
  public void upstreamFailed(String backendId, String kind) {
    failuresByBackendAndKind.computeIfAbsent(backendId + '\0' + kind, k -> Counter.builder("meridian.upstream.failures")
        .description("Upstream failures by backend and kind")
        .tag("backend", backendId).tag("kind", kind).register(registry)).increment();
  }

  /** Open client connections now. */
  public int clientConnections() {
    return clientConnections.get();
  }

  /** Requests in flight now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** One route's counters of answered requests by status class. */
  public static final class RouteRequests {
    private final String route;
    private final Counter[] byStatusClass;

    private RouteRequests(String route, Counter[] byStatusClass) {
      this.route = route;
      this.byStatusClass = byStatusClass;
    }

    /** The route's name. */
    public String route() {
      return route;
    }

    private void count(int status) {
      byStatusClass[Math.min(Math.max(status / 100 - 1, 0), 4)].increment();
    }
  }
}
