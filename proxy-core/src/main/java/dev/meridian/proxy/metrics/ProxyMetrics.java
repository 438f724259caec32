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
  /**
   * Bucket bounds of the request duration histogram: fixed, so {@code histogram_quantile} can sum
   * buckets across instances.
   */
  private static final Duration[] DURATION_BUCKETS = java.util.stream.LongStream.of(
          1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000)
      .mapToObj(Duration::ofMillis).toArray(Duration[]::new);
  /** Bucket bounds of the upstream connect time histogram. */
  private static final Duration[] CONNECT_BUCKETS = java.util.stream.LongStream.of(
          100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 3_000_000)
      .mapToObj(Duration::ofNanos).map(d -> d.multipliedBy(1000)).toArray(Duration[]::new);

  private final MeterRegistry registry;
  private final AtomicInteger clientConnections = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger tunnels = new AtomicInteger();
  private final ConcurrentHashMap<String, RouteRequests> requestsByRoute = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> upstreamTimeByBackend = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> connectTimeByBackend = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> failuresByBackendAndKind = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> serverErrorsByBackend = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, StickyMeters> stickyByRoute = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, CacheMeters> cacheByRoute = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, RetryMeters> retriesByRoute = new ConcurrentHashMap<>();
  private final EdgeMeters edge;
  private final BackendLimitMeters backendLimits;
  private final ConfigReloadMeters configReloads;
  /**
   * What the region and backend meters read, by group and region or backend id, kept here:
   * Micrometer holds what a gauge or function counter reads weakly.
   */
  private final ConcurrentHashMap<String, Object> keptReadings = new ConcurrentHashMap<>();
  /** Backends ({@code group\0id}) that left their group: their upstream meters are not made again until they return. */
  private final java.util.Set<String> forgotten = ConcurrentHashMap.newKeySet();
  /** Forgotten backends remembered at most; beyond, the set starts over. */
  private static final int MAX_FORGOTTEN = 10_000;
  /** What a forgotten backend's late responses are timed into: a timer no registry shows. */
  private static final Timer UNCOUNTED_TIME = new io.micrometer.core.instrument.noop.NoopTimer(
      new io.micrometer.core.instrument.Meter.Id("meridian.upstream.response.time",
          io.micrometer.core.instrument.Tags.empty(), null, null, io.micrometer.core.instrument.Meter.Type.TIMER));
  /** See {@link #backendsForgotten}; counted by reloads and discovery updates, read by the event loops. */
  private final AtomicInteger backendsForgotten = new AtomicInteger();

  /** Registers the proxy's gauges in the registry. */
  public ProxyMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("meridian.client.connections", clientConnections, AtomicInteger::get)
        .description("Open client connections speaking HTTP/1 or HTTP/2 (an HTTP/2 connection counts once)")
        .register(registry);
    Gauge.builder("meridian.requests.in.flight", inFlight, AtomicInteger::get)
        .description("Requests received whose response is not complete").register(registry);
    Gauge.builder("meridian.tunnels.open", tunnels, AtomicInteger::get)
        .description("Connections switched to another protocol (WebSocket, ...) and relayed as bytes").register(registry);
    this.edge = new EdgeMeters(registry);
    this.backendLimits = new BackendLimitMeters(registry);
    this.configReloads = new ConfigReloadMeters(registry, System.currentTimeMillis());
  }

  /** What the configuration reloads did (applied, refused, when the configuration in force began). */
  public ConfigReloadMeters configReloads() {
    return configReloads;
  }

  /** The client edge's counters: connections accepted, TLS handshakes, HTTP/2 streams and resets. */
  public EdgeMeters edge() {
    return edge;
  }

  /**
   * Reports the process's bound on backend connections: {@code meridian_upstream_connections_open}
   * (held under it now) and {@code meridian_upstream_connections_max} (what the open-file limit allows).
   */
  public void upstreamConnectionBudget(java.util.function.IntSupplier open, int max) {
    Gauge.builder("meridian.upstream.connections.open", open::getAsInt)
        .description("HTTP/1 backend connections open, in use or idle, under the process's bound").register(registry);
    Gauge.builder("meridian.upstream.connections.max", () -> max)
        .description("HTTP/1 backend connections the process may hold: (open-file limit - 256) / 2").register(registry);
  }

  /** The meters of a listener's connection limits (one set per listener name). */
  public ListenerMeters listener(String name) {
    return new ListenerMeters(registry, name);
  }

  /** A route's retry counters (registered on first use). */
  public RetryMeters retries(String route) {
    RetryMeters meters = retriesByRoute.get(route);
    return meters != null ? meters : retriesByRoute.computeIfAbsent(route, r -> new RetryMeters(registry, r));
  }

  /** What {@link #registerBackend} reads of a backend at each scrape (through the routing in force). */
  public interface BackendReadings {
    /** Its peak-EWMA latency cost in seconds; NaN before a sample or once it is gone. */
    double ewmaSeconds();

    /** Requests sent to it and not finished. */
    double inFlight();

    /** Times passive outlier detection ejected it. */
    double ejections();

    /** Active health checks of it that passed ({@code true}) or failed. */
    double checks(boolean passed);

    /**
     * Sticky routes' requests it answered on sessions pinned to it by that answer ({@code newPin}) or
     * pinned to it before.
     */
    double stickyRequests(boolean newPin);
  }

  /**
   * Registers a backend's meters, each tagged with group, backend and region:
   * {@code meridian_backend_ewma_seconds}, {@code meridian_backend_in_flight},
   * {@code meridian_backend_ejections_total}, {@code meridian_health_checks_total{result="pass"|"fail"}}
   * and {@code meridian_backend_sticky_requests_total{pin="existing"|"new"}}.
   */
  public void registerBackend(String group, dev.meridian.balancer.Backend backend, BackendReadings readings) {
    String key = group + '\0' + backend.id();
    if (forgotten.remove(key)) {
      // Back after it left: meters a late request made while it was away go, and are made anew.
      upstreamTimeByBackend.remove(key);
      failuresByBackendAndKind.keySet().removeIf(k -> k.startsWith(key + '\0'));
      serverErrorsByBackend.keySet().removeIf(k -> k.startsWith(key + '\0'));
      backendsForgotten.incrementAndGet(); // a connection that kept the uncounted timer looks it up again
    }
    if (keptReadings.putIfAbsent("backend\0" + key, readings) != null) {
      return; // registered before (a reload): those meters read the routing in force through the first readings
    }
    io.micrometer.core.instrument.Tags tags = io.micrometer.core.instrument.Tags.of(
        "group", group, "backend", backend.id(), "region", backend.region());
    Gauge.builder("meridian.backend.ewma.seconds", readings, BackendReadings::ewmaSeconds)
        .description("The backend's peak-EWMA latency cost").tags(tags).register(registry);
    Gauge.builder("meridian.backend.in.flight", readings, BackendReadings::inFlight)
        .description("Requests sent to the backend and not finished").tags(tags).register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.backend.ejections", readings, BackendReadings::ejections)
        .description("Times passive outlier detection ejected the backend").tags(tags).register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.health.checks", readings, r -> r.checks(true))
        .description("Active health checks of the backend, by result").tags(tags).tag("result", "pass").register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.health.checks", readings, r -> r.checks(false))
        .description("Active health checks of the backend, by result").tags(tags).tag("result", "fail").register(registry);
    for (boolean newPin : new boolean[] {false, true}) {
      io.micrometer.core.instrument.FunctionCounter.builder("meridian.backend.sticky.requests", readings,
              r -> r.stickyRequests(newPin))
          .description("Sticky routes' requests the backend answered, on a session pinned to it before"
              + " (existing) or by this answer (new)")
          .tags(tags).tag("pin", newPin ? "new" : "existing").register(registry);
    }
  }

  /**
   * Removes the meters {@link #registerBackend} and {@link #registerBackendHealth} registered for a
   * backend whose address (or region) a reload or a discovery update changed: they read the old
   * backend's state, and are registered again for the new one. Its upstream response timer and
   * failure counters, which count requests whatever the address, stay and go on counting.
   */
  public void forgetBackendReadings(String group, String backendId) {
    keptReadings.remove("backend\0" + group + '\0' + backendId);
    registry.getMeters().stream().filter(m -> isBackendsMeter(m, group, backendId)
        && !m.getId().getName().startsWith("meridian.upstream.")).toList().forEach(registry::remove);
  }

  /**
   * Removes every meter of a backend that left its group (a reload or a discovery update), so a
   * group whose backends come and go does not grow the scrape without bound: its readings, its
   * upstream response timer and failure counters. If it comes back, they are registered anew
   * (counting from zero) at its first request; connections that kept the old timer look it up again.
   */
  public void forgetBackend(String group, String backendId) {
    String key = group + '\0' + backendId;
    // First marked, so that a request still finishing there (or a lookup racing this) records
    // nowhere instead of making its meters again for good.
    if (forgotten.size() >= MAX_FORGOTTEN) {
      forgotten.clear(); // long gone by now: requests sent to them have ended (churning discovery)
    }
    forgotten.add(key);
    keptReadings.remove("backend\0" + key);
    upstreamTimeByBackend.remove(key);
    failuresByBackendAndKind.keySet().removeIf(k -> k.startsWith(key + '\0'));
    serverErrorsByBackend.keySet().removeIf(k -> k.startsWith(key + '\0'));
    registry.getMeters().stream().filter(m -> isBackendsMeter(m, group, backendId)).toList().forEach(registry::remove);
    backendsForgotten.incrementAndGet();
  }

  private static boolean isBackendsMeter(io.micrometer.core.instrument.Meter m, String group, String backendId) {
    return group.equals(m.getId().getTag("group")) && backendId.equals(m.getId().getTag("backend"));
  }

  /**
   * How many times {@link #forgetBackend} removed a backend's meters: a caller that keeps a timer of
   * {@link #upstreamResponseTime} between requests looks it up again when this changed.
   */
  public int backendsForgotten() {
    return backendsForgotten.get();
  }

  /** What {@link #registerRegion} reads of a region at each scrape. */
  public interface RegionReadings {
    /** The region's dial, percent (NaN once the group is gone). */
    double dial();

    /** 1 while health is ignored in the region (panic), else 0. */
    double panic();

    /** Requests the region's backends answered so far. */
    double requests();

    /** Of those, errors (5xx, resets, timeouts). */
    double errors();
  }

  /**
   * Registers a region's gauges and counters: {@code meridian_region_dial_percent},
   * {@code meridian_region_panic}, {@code meridian_region_requests_total} and
   * {@code meridian_region_errors_total}, each tagged with group and region.
   */
  public void registerRegion(String group, String region, RegionReadings readings) {
    if (keptReadings.putIfAbsent("region\0" + group + '\0' + region, readings) != null) {
      return; // registered before (a reload): those meters read the routing in force through the first readings
    }
    Gauge.builder("meridian.region.dial.percent", readings, RegionReadings::dial)
        .description("Share of the region's healthy capacity it offers (100 normal, 0 drained)").strongReference(true)
        .tag("group", group).tag("region", region).register(registry);
    Gauge.builder("meridian.region.panic", readings, RegionReadings::panic)
        .description("1 while health is ignored in the region (too few healthy backends along a failover order)").strongReference(true)
        .tag("group", group).tag("region", region).register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.region.requests", readings, RegionReadings::requests)
        .description("Requests the region's backends answered")
        .tag("group", group).tag("region", region).register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.region.errors", readings, RegionReadings::errors)
        .description("Requests to the region that ended in an error (5xx, reset, timeout)")
        .tag("group", group).tag("region", region).register(registry);
  }

  /** What groups' per-backend limits did to requests. */
  public BackendLimitMeters backendLimits() {
    return backendLimits;
  }

  /**
   * Registers the gauge of a group's requests waiting for a full backend ({@code limits.max-pending}),
   * once per group name: a reload keeps the first, which reads the routing in force. The gauge holds
   * the supplier strongly: nothing else does, and a collected one reads NaN.
   */
  public void registerBackendQueue(String group, java.util.function.IntSupplier queued) {
    if (keptReadings.putIfAbsent("queue\0" + group, queued) != null) {
      return; // registered before (a reload): the first supplier reads the routing in force
    }
    Gauge.builder("meridian.backend.queued", queued, java.util.function.IntSupplier::getAsInt)
        .description("Requests waiting for a backend of the group at its limits.max-connections")
        .tag("group", group).strongReference(true).register(registry);
  }

  /** Registers a group's panic-mode counter: picks made with health ignored. */
  public void registerGroup(String group, java.util.function.LongSupplier panicPicks) {
    // Micrometer holds a function counter's object weakly, and nothing else holds this supplier.
    if (keptReadings.putIfAbsent("panic-picks\0" + group, panicPicks) != null) {
      return; // registered before (a reload): the first supplier reads the routing in force
    }
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
    if (registry.find("meridian.backend.available").tags("group", group, "backend", backend.id()).gauge() != null) {
      return; // registered before (a reload, a discovery update): it reads the group's registry, which is kept
    }
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

  /**
   * Registers the access log's counter, {@code meridian_access_log_lines_total}, by {@code result}:
   * {@code written}, {@code dropped} (the writer was behind and its queue full) and
   * {@code sampled_out}.
   */
  public void registerAccessLog(dev.meridian.proxy.accesslog.AccessLog accessLog) {
    String description = "Access log lines by what became of them";
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.access.log.lines", accessLog, a -> a.written())
        .description(description).tag("result", "written").register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.access.log.lines", accessLog, a -> a.dropped())
        .description(description).tag("result", "dropped").register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("meridian.access.log.lines", accessLog, a -> a.sampledOut())
        .description(description).tag("result", "sampled_out").register(registry);
  }

  /** The registry the meters live in. */
  public MeterRegistry registry() {
    return registry;
  }

  /** A client connection began speaking HTTP (counted among the open ones until it closes). */
  public void clientConnectionOpened() {
    clientConnections.incrementAndGet();
  }

  public void clientConnectionClosed() {
    clientConnections.decrementAndGet();
  }

  public void requestStarted() {
    inFlight.incrementAndGet();
  }

  /**
   * Records a finished request on its route's meters (from {@link #routeRequests}): its status, time
   * from head to end, and body bytes received and sent.
   */
  public void requestFinished(RouteRequests route, int status, long nanos, long bytesIn, long bytesOut) {
    inFlight.decrementAndGet();
    route.record(status, nanos, bytesIn, bytesOut);
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
    Timer duration = Timer.builder("meridian.request.duration")
        .description("Time from a request's head arriving to its response's end, by route")
        .tag("route", route).serviceLevelObjectives(DURATION_BUCKETS).register(registry);
    Counter bytesIn = Counter.builder("meridian.request.bytes").baseUnit("bytes")
        .description("Request body bytes received, by route").tag("route", route).register(registry);
    Counter bytesOut = Counter.builder("meridian.response.bytes").baseUnit("bytes")
        .description("Response body bytes sent, by route").tag("route", route).register(registry);
    return new RouteRequests(route, counters, duration, bytesIn, bytesOut);
  }

  /**
   * The timer of a backend's time from sending a request to its response headers, for a caller that
   * keeps it between requests: {@code meridian_upstream_response_time_seconds{group,backend}} (a
   * backend id is unique in its group only).
   */
  public Timer upstreamResponseTime(String group, String backendId) {
    String key = group + '\0' + backendId;
    Timer timer = upstreamTimeByBackend.get(key);
    if (timer != null) {
      return timer;
    }
    if (forgotten.contains(key)) {
      return UNCOUNTED_TIME; // the backend left its group: not brought back by a late request
    }
    return upstreamTimeByBackend.computeIfAbsent(key,
        k -> Timer.builder("meridian.upstream.response.time")
            .description("Time to response headers from a backend")
            .tag("group", group).tag("backend", backendId).publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry));
  }

  /**
   * Records how long a new connection to a backend took to connect:
   * {@code meridian_upstream_connect_seconds{backend}}, a histogram with fixed buckets.
   */
  public void upstreamConnected(String backendId, long nanos) {
    Timer timer = connectTimeByBackend.get(backendId);
    if (timer == null) {
      timer = connectTimeByBackend.computeIfAbsent(backendId, id -> Timer.builder("meridian.upstream.connect")
          .description("Time to connect a new connection to a backend (TCP, before any TLS)")
          .tag("backend", id).serviceLevelObjectives(CONNECT_BUCKETS).register(registry));
    }
    timer.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /**
   * Counts an upstream failure: {@code meridian_upstream_failures_total{group,backend,kind}}.
   *
   * @param kind {@code connect}, {@code connect-refused}, {@code local}, {@code reset}, {@code tls}, {@code timeout},
   *     {@code deadline} (the request's response-deadline passed while it waited), {@code reused-closed}
   *     (a pooled connection closed before answering; the request was sent again, not counted as a
   *     retry), {@code protocol} or {@code no-stream}
   */
  public void upstreamFailed(String group, String backendId, String kind) {
    if (forgotten.contains(group + '\0' + backendId)) {
      return; // the backend left its group (a late failure of a request sent before)
    }
    failuresByBackendAndKind.computeIfAbsent(group + '\0' + backendId + '\0' + kind,
        k -> Counter.builder("meridian.upstream.failures")
            .description("Upstream failures by group, backend and kind")
            .tag("group", group).tag("backend", backendId).tag("kind", kind).register(registry)).increment();
  }

  /**
   * Counts a backend's own 5xx answer (HAProxy's per-server hrsp_5xx; Meridian's own 502 and 504 are
   * upstream failures instead): {@code meridian_upstream_5xx_total{group,backend,status}}.
   */
  public void upstreamServerError(String group, String backendId, int status) {
    if (forgotten.contains(group + '\0' + backendId)) {
      return;
    }
    serverErrorsByBackend.computeIfAbsent(group + '\0' + backendId + '\0' + status,
        k -> Counter.builder("meridian.upstream.5xx")
            .description("5xx answers of each backend, by status")
            .tag("group", group).tag("backend", backendId).tag("status", Integer.toString(status)).register(registry))
        .increment();
  }

  /** Open client connections now. */
  public int clientConnections() {
    return clientConnections.get();
  }

  /** Requests in flight now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** A connection switched protocols (101) and is relayed as bytes until it closes. */
  public void tunnelOpened() {
    tunnels.incrementAndGet();
  }

  /** A tunnel closed. */
  public void tunnelClosed() {
    tunnels.decrementAndGet();
  }

  /** Tunnels open now (a drain waits for them, up to its timeout). */
  public int openTunnels() {
    return tunnels.get();
  }

  /** One route's meters: answered requests by status class, their durations and body bytes. */
  public static final class RouteRequests {
    private final String route;
    private final Counter[] byStatusClass;
    private final Timer duration;
    private final Counter bytesIn;
    private final Counter bytesOut;

    private RouteRequests(String route, Counter[] byStatusClass, Timer duration, Counter bytesIn, Counter bytesOut) {
      this.route = route;
      this.byStatusClass = byStatusClass;
      this.duration = duration;
      this.bytesIn = bytesIn;
      this.bytesOut = bytesOut;
    }

    /** Counts body bytes of a request already counted (a tunnel's, which pass after its 101). */
    public void addBytes(long in, long out) {
      bytesIn.increment(in);
      bytesOut.increment(out);
    }

    /** The route's name. */
    public String route() {
      return route;
    }

    private void record(int status, long nanos, long in, long out) {
      byStatusClass[Math.min(Math.max(status / 100 - 1, 0), 4)].increment();
      duration.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
      if (in > 0) {
        bytesIn.increment(in);
      }
      if (out > 0) {
        bytesOut.increment(out);
      }
    }
  }
}
