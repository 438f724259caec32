package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.GroupStats;
import dev.meridian.balancer.HealthView;
import dev.meridian.health.ActiveHealthChecker;
import dev.meridian.health.HealthRegistry;
import dev.meridian.health.OutlierDetector;
import dev.meridian.health.SlowStart;
import dev.meridian.balancer.NanoClock;
import dev.meridian.balancer.RegionPolicy;
import dev.meridian.balancer.RegionalSelector;
import dev.meridian.balancer.RetryBudget;
import dev.meridian.balancer.Strategies;
import dev.meridian.balancer.StrategyOptions;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendGroupSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import dev.meridian.proxy.config.MeridianSettings.HealthSettings;
import dev.meridian.proxy.config.MeridianSettings.ListenerSettings;
import dev.meridian.proxy.config.MeridianSettings.RegionSettings;
import dev.meridian.proxy.config.MeridianSettings.RouteSettings;
import dev.meridian.proxy.http.NeverIndexedHeaders;
import dev.meridian.proxy.metrics.ProxyMetrics;
import dev.meridian.proxy.regions.OperatorOverrides;
import dev.meridian.proxy.regions.RegionCounters;
import dev.meridian.proxy.regions.RegionFault;
import dev.meridian.proxy.regions.RegionFaults;
import dev.meridian.proxy.regions.RegionTraffic;
import dev.meridian.proxy.routing.HostPattern;
import dev.meridian.proxy.routing.Residency;
import dev.meridian.proxy.routing.Route;
import dev.meridian.proxy.transport.Transport;
import dev.meridian.proxy.routing.Router;
import dev.meridian.proxy.upstream.UpstreamPools;
import dev.meridian.proxy.upstream.UpstreamSettings;
import dev.meridian.proxy.upstream.BackendLink;
import dev.meridian.proxy.upstream.UpstreamProtocol;
import dev.meridian.proxy.upstream.UpstreamTls;
import io.netty.handler.ssl.ApplicationProtocolNames;
import dev.meridian.tls.OcspStapler;
import dev.meridian.tls.UpstreamTlsContexts;
import dev.meridian.tls.CertificateReloader;
import dev.meridian.tls.SessionTicketKeys;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.NettyRuntime;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Meridian's proxy server: binds the configured listeners on event loops of the best transport,
 * forwards their requests, and drains gracefully on shutdown.
 *
 * <p>Lifecycle: {@link #start()} once, then {@link #shutdown(Duration)} once. Thread-safe.
 */
public final class ProxyServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

  private final MeridianSettings settings;
  private final Transport transport;
  private final EventLoopGroup acceptGroup;
  private final MultiThreadIoEventLoopGroup workerGroup;
  private final ProxyContext context;
  /**
   * Health marks per group: a backend listed in two groups (same id or address) has separate state in
   * each, since each group checks it its own way. Kept by group name across reloads, so operator marks
   * (drains, ejections) survive one.
   */
  private final Map<String, HealthRegistry> healthByGroup = new java.util.concurrent.ConcurrentHashMap<>();
  /** Requests and errors per region of each group, kept by group name across reloads. */
  private final Map<String, RegionTraffic> trafficByGroup = new java.util.concurrent.ConcurrentHashMap<>();
  /** Faults injected per region of each group (drills), kept by group name across reloads. */
  private final Map<String, RegionFaults> faultsByGroup = new java.util.concurrent.ConcurrentHashMap<>();
  /** Operators' run-time changes and their time limits, swept with the outlier ticks. */
  private final OperatorControls operator;
  /** The monotonic clock of every time-dependent decision: EWMA decay, ejections, retry budgets. */
  private final NanoClock clock;
  private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
  private final List<Channel> listeners = new ArrayList<>();
  private final List<CertificateReloader> reloaders = new ArrayList<>();
  /** Fetches OCSP responses for certificates that name a responder; blocking, so off the event loops. */
  private final java.util.concurrent.ScheduledExecutorService ocspThread =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("meridian-ocsp", true));
  private io.netty.util.concurrent.ScheduledFuture<?> healthTicker;

  /**
   * Builds the server from validated settings; nothing is bound until {@link #start()}.
   *
   * @param registry where the proxy's metrics are registered
   */
  public ProxyServer(MeridianSettings settings, MeterRegistry registry) {
    this(settings, registry, NanoClock.SYSTEM);
  }

  /**
   * Builds the server with the clock its balancing and health decisions read (tests pass a manual one;
   * Netty's timers still run on real time).
   */
  public ProxyServer(MeridianSettings settings, MeterRegistry registry, NanoClock clock) {
    this.settings = settings;
    this.clock = clock;
    this.transport = Transport.choose(settings.server().transport());
    int threads = settings.server().eventLoopThreads() > 0
        ? settings.server().eventLoopThreads() : NettyRuntime.availableProcessors();
    this.acceptGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("meridian-accept"),
        transport.ioHandlerFactory());
    this.workerGroup = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("meridian-io"),
        transport.ioHandlerFactory());
    Map<String, BackendGroup> groups = buildGroups(settings);
    Map<String, GroupRuntime> runtimes = buildRuntimes(settings, groups, Map.of());
    Router router = new Router(buildRoutes(settings, runtimes));
    UpstreamPools pools = new UpstreamPools(new UpstreamSettings(transport,
        settings.timeouts().connect(), settings.timeouts().upstreamIdle(),
        settings.upstream().maxIdlePerBackend(), settings.upstream().writeBufferLow(),
        settings.upstream().writeBufferHigh(), 8192, 64 * 1024,
        new NeverIndexedHeaders(settings.headers().requestIdHeader())));
    pools.links(backendLinks(settings, groups, Map.of()));
    ProxyMetrics metrics = new ProxyMetrics(registry);
    this.context = new ProxyContext(settings, router, runtimes, pools, metrics);
    this.operator = new OperatorControls(context, healthByGroup, faultsByGroup, new OperatorOverrides(clock::nanoTime));
    registerMetrics(runtimes);
  }

  /**
   * How each backend is spoken to: its group's protocol and, where the group enables TLS, a client
   * context (built once per group) whose ALPN offers just that protocol. A link that did not change
   * since {@code previous} is kept, so its pooled connections stay in use.
   */
  private static Map<Backend, BackendLink> backendLinks(MeridianSettings settings,
      Map<String, BackendGroup> groups, Map<Backend, BackendLink> previous) {
    Map<Backend, BackendLink> out = new java.util.HashMap<>();
    for (BackendGroupSettings g : settings.backendGroups().values()) {
      BackendLink kept = groups.get(g.name()).backends().stream().map(previous::get)
          .filter(l -> l != null && l.protocol() == g.protocol()
              && (l.tls() == null ? !g.tls().enabled() : l.tls().settings().equals(g.tls())))
          .findFirst().orElse(null);
      if (kept != null) {
        groups.get(g.name()).backends().forEach(b -> out.put(b, kept));
        continue;
      }
      UpstreamTls tls = null;
      if (g.tls().enabled()) {
        String alpn = g.protocol() == UpstreamProtocol.H2
            ? ApplicationProtocolNames.HTTP_2 : ApplicationProtocolNames.HTTP_1_1;
        tls = new UpstreamTls(UpstreamTlsContexts.client(g.tls(), List.of(alpn)), g.tls());
      }
      BackendLink link = new BackendLink(g.protocol(), tls);
      groups.get(g.name()).backends().forEach(b -> out.put(b, link));
    }
    return out;
  }

  private static Map<String, BackendGroup> buildGroups(MeridianSettings settings) {
    Map<String, BackendGroup> groups = new LinkedHashMap<>();
    for (BackendGroupSettings g : settings.backendGroups().values()) {
      List<Backend> backends = new ArrayList<>();
      for (BackendSettings b : g.backends()) {
        backends.add(new Backend(b.id(), b.address().host(), b.address().port(), b.region(), b.zone(),
            b.weight(), Map.of()));
      }
      groups.put(g.name(), new BackendGroup(g.name(), backends));
    }
    return groups;
  }

  private void registerMetrics(Map<String, GroupRuntime> runtimes) {
    runtimes.forEach((name, runtime) -> {
      context.metrics.registerGroup(name, () -> context.routing().groups().containsKey(name)
          ? context.routing().groups().get(name).selector().panicPicks() : 0);
      runtime.group().backends().forEach(b -> context.metrics.registerBackendHealth(name, b, health(name)));
    });
  }

  /**
   * Builds the running groups; the latency and load statistics of backends that were in a group of
   * the same name in {@code previous} carry over.
   */
  private Map<String, GroupRuntime> buildRuntimes(MeridianSettings settings, Map<String, BackendGroup> groups,
      Map<String, GroupRuntime> previous) {
    Map<String, GroupRuntime> runtimes = new LinkedHashMap<>();
    for (BackendGroupSettings g : settings.backendGroups().values()) {
      BackendGroup group = groups.get(g.name());
      HealthRegistry health = health(g.name());
      GroupStats stats = new GroupStats(group.backends(), clock, g.ewmaDecay().toNanos());
      if (previous.containsKey(g.name())) {
        stats.carryOver(previous.get(g.name()).stats());
      }
      RegionSettings r = g.regions();
      RegionPolicy policy = new RegionPolicy(r.failover(), r.spillOver(), r.latencyMargin().toNanos(),
          r.writer(), settings.region(), r.panicThreshold());
      StrategyOptions options = StrategyOptions.DEFAULTS.withHashing(g.hash().algorithm())
          .withBoundedLoad(g.hash().boundedLoad());
      var strategy = Strategies.factory(g.strategy(), stats, options);
      HealthSettings h = g.health();
      HealthView writeView = SlowStart.wrap(group, health, health, h.slowStart());
      RegionalSelector selector = new RegionalSelector(group.backends(), writeView, stats, policy, strategy);
      RegionalSelector readSelector = selector;
      if (h.active().flatMap(a -> a.replicationLagHeader()).isPresent()) {
        HealthView readView = SlowStart.wrap(group, health, health.readView(h.active().get().maxReplicationLag()),
            h.slowStart());
        readSelector = new RegionalSelector(group.backends(), readView, stats, policy, strategy);
      }
      for (RegionalSelector each : List.of(selector, readSelector)) {
        each.onPanicChange((panic, region, capacity) ->
            logPanic(g.name(), panic, region, capacity, r.panicThreshold()));
      }
      OutlierDetector outliers = new OutlierDetector(group, health, h.passive(),
          h.passive().latencyOutliersEnabled() ? stats : null, clock);
      ActiveHealthChecker checker = h.active().map(a -> new ActiveHealthChecker(group, a, health, outliers,
          workerGroup, transport.socketChannel())).orElse(null);
      runtimes.put(g.name(), GroupRuntime.of(group, selector, readSelector, stats, outliers, checker, g,
          trafficByGroup.computeIfAbsent(g.name(), n -> new RegionTraffic()),
          faultsByGroup.computeIfAbsent(g.name(), n -> new RegionFaults())));
    }
    return runtimes;
  }

  private static void logPanic(String group, boolean panic, String region, double capacity, double threshold) {
    long percent = Math.round(capacity * 100);
    if (panic) {
      log.warn("group '{}': a failover order has {}% capacity (below the panic threshold {}%); ignoring"
          + " health inside {}", group, percent, Math.round(threshold * 100), region);
    } else {
      log.info("group '{}': a failover order has {}% capacity again; panic mode in {} over", group, percent,
          region);
    }
  }

  private List<Route> buildRoutes(MeridianSettings settings, Map<String, GroupRuntime> runtimes) {
    List<Route> routes = new ArrayList<>();
    for (RouteSettings r : settings.routes()) {
      GroupRuntime target = runtimes.get(r.backendGroup());
      Residency residency = r.residency().map(res -> {
        Map<String, Set<String>> classes = new LinkedHashMap<>();
        res.regions().forEach((k, v) -> classes.put(k, Set.copyOf(v)));
        return new Residency(res.header(), classes);
      }).orElse(null);
      routes.add(new Route(r.name(), r.host().map(HostPattern::parse).orElse(null), r.pathPrefix(),
          Set.copyOf(r.methods()), target.group(), target.selector(), r.rewriteHost(),
          Set.copyOf(r.upgrades()), residency, r.retries(),
          new RetryBudget(r.retries().budget(), r.retries().minPerSecond(), clock)));
    }
    return routes;
  }

  /** Keeps the listener's certificates' OCSP responses fresh when they name a responder. */
  private void startStapling(CertificateReloader reloader) {
    OcspStapler stapler = new OcspStapler(reloader::current, java.time.Clock.systemUTC(), Duration.ofSeconds(5));
    long every = OcspStapler.CHECK_INTERVAL.toMillis();
    ocspThread.scheduleWithFixedDelay(() -> {
      try {
        stapler.refresh();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        log.warn("OCSP stapling: {}", e.toString());
      }
    }, 0, every, TimeUnit.MILLISECONDS);
  }

  /** Binds every listener; returns the bound addresses in listener order (port 0 resolved). */
  public List<InetSocketAddress> start() throws InterruptedException {
    context.routing().groups().values().forEach(r -> {
      if (r.checker() != null) {
        r.checker().start();
      }
    });
    healthTicker = workerGroup.next().scheduleAtFixedRate(() -> {
      context.routing().groups().values().forEach(r -> r.outliers().tick());
      operator.sweep();
    }, 1, 1, TimeUnit.SECONDS);
    List<InetSocketAddress> bound = new ArrayList<>();
    for (ListenerSettings listener : settings.listeners()) {
      CertificateReloader tls = listener.tls().map(t -> {
        CertificateReloader reloader = new CertificateReloader(t);
        reloader.start(workerGroup.next(), CertificateReloader.DEFAULT_POLL_INTERVAL,
            SessionTicketKeys.DEFAULT_ROTATION);
        reloaders.add(reloader);
        startStapling(reloader);
        return reloader;
      }).orElse(null);
      ServerBootstrap bootstrap = new ServerBootstrap()
          .group(acceptGroup, workerGroup)
          .channel(transport.serverChannel())
          .option(ChannelOption.SO_BACKLOG, 4096)
          .option(ChannelOption.SO_REUSEADDR, true)
          .childOption(ChannelOption.AUTO_READ, false)
          .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(
              settings.upstream().writeBufferLow(), settings.upstream().writeBufferHigh()))
          .childHandler(new ClientChannelInitializer(context, clients, tls));
      InetSocketAddress address = new InetSocketAddress(listener.address().host(), listener.address().port());
      Channel channel = bootstrap.bind(address).sync().channel();
      listeners.add(channel);
      InetSocketAddress local = (InetSocketAddress) channel.localAddress();
      bound.add(local);
      log.info("listener '{}' on {}{}", listener.name(), local, tls == null ? "" : " (TLS: "
          + tls.current().hostNames() + ")");
    }
    String why = transport.whyNotBetter();
    log.info("transport {} with {} event loop(s){}", transport.configName(), workerGroup.executorCount(),
        why.isEmpty() ? "" : " (" + why + ")");
    return bound;
  }

  /**
   * Puts a new configuration's routes and backend groups (strategies, regions, health, retries) in
   * force without closing a connection: requests already started finish on the old ones. Listener,
   * admin, server, limits, timeouts and header changes need a restart; a backend group's
   * protocol or TLS change applies to new upstream connections, which is logged.
   */
  public synchronized void reload(MeridianSettings next) {
    MeridianSettings current = context.settings;
    logNeedsRestart("listeners", current.listeners(), next.listeners());
    logNeedsRestart("admin", current.admin(), next.admin());
    logNeedsRestart("server", current.server(), next.server());
    logNeedsRestart("limits", current.limits(), next.limits());
    logNeedsRestart("timeouts", current.timeouts(), next.timeouts());
    logNeedsRestart("upstream", current.upstream(), next.upstream());
    logNeedsRestart("headers", current.headers(), next.headers());
    Routing old = context.routing();
    Map<String, BackendGroup> groups = buildGroups(next);
    Map<String, GroupRuntime> runtimes = buildRuntimes(next, groups, old.groups());
    Router router = new Router(buildRoutes(next, runtimes));
    context.pools.links(backendLinks(next, groups, context.pools.links()));
    runtimes.values().forEach(r -> {
      if (r.checker() != null) {
        r.checker().start();
      }
    });
    context.swap(new Routing(router, Map.copyOf(runtimes)));
    registerMetrics(runtimes);
    old.groups().values().forEach(r -> {
      if (r.checker() != null) {
        r.checker().close();
      }
      // The old detector no longer ticks: its ejections would never end.
      r.group().backends().forEach(b -> health(r.group().name()).clear(b.id(), OutlierDetector.OWNER));
    });
    healthByGroup.keySet().retainAll(runtimes.keySet());
    trafficByGroup.keySet().retainAll(runtimes.keySet());
    faultsByGroup.keySet().retainAll(runtimes.keySet());
    log.info("configuration reloaded: {} route(s), {} backend group(s)", router.routes().size(), runtimes.size());
  }

  private static void logNeedsRestart(String section, Object current, Object next) {
    if (!current.equals(next)) {
      log.warn("configuration reload: meridian.{} changed; that part takes effect after a restart", section);
    }
  }

  /** The health marks of a group's backends (an empty registry for a group not configured). */
  public HealthRegistry health(String group) {
    return healthByGroup.computeIfAbsent(group, g -> new HealthRegistry());
  }

  /** The backend groups by name, for the admin API. */
  public Map<String, BackendGroup> groups() {
    Map<String, BackendGroup> out = new LinkedHashMap<>();
    context.routing().groups().forEach((name, runtime) -> out.put(name, runtime.group()));
    return out;
  }

  /** The regional selector of each group, for the admin API (dials, region order). */
  public Map<String, RegionalSelector> selectors() {
    Map<String, RegionalSelector> out = new LinkedHashMap<>();
    context.routing().groups().forEach((name, runtime) -> out.put(name, runtime.selector()));
    return out;
  }

  /** Operators' run-time changes: dials, ejections, injected faults, with their time limits. */
  public OperatorControls operator() {
    return operator;
  }

  /** The faults injected into a group's regions. */
  public Map<String, RegionFault> faults(String group) {
    RegionFaults faults = faultsByGroup.get(group);
    return faults == null ? Map.of() : faults.all();
  }

  /** Requests and errors per region of a group. */
  public Map<String, RegionCounters> traffic(String group) {
    RegionTraffic traffic = trafficByGroup.get(group);
    return traffic == null ? Map.of() : traffic.all();
  }

  /** Passive outlier state per group, for the admin API. */
  public Map<String, OutlierDetector> outlierDetectors() {
    Map<String, OutlierDetector> out = new LinkedHashMap<>();
    context.routing().groups().forEach((name, runtime) -> out.put(name, runtime.outliers()));
    return out;
  }

  /** Active check state per group (groups without active checks are absent), for the admin API. */
  public Map<String, ActiveHealthChecker> healthCheckers() {
    Map<String, ActiveHealthChecker> out = new LinkedHashMap<>();
    context.routing().groups().forEach((name, runtime) -> {
      if (runtime.checker() != null) {
        out.put(name, runtime.checker());
      }
    });
    return out;
  }

  /** The latency and load statistics of each group, for the admin API. */
  public Map<String, GroupStats> stats() {
    Map<String, GroupStats> out = new LinkedHashMap<>();
    context.routing().groups().forEach((name, runtime) -> out.put(name, runtime.stats()));
    return out;
  }

  /** The routes in match order, for the admin API. */
  public List<Route> routes() {
    return context.routing().router().routes();
  }

  /** The transport in use. */
  public Transport transport() {
    return transport;
  }

  /** The proxy's metrics. */
  public ProxyMetrics metrics() {
    return context.metrics;
  }

  /** The upstream pools, for the admin API. */
  public UpstreamPools pools() {
    return context.pools;
  }

  /**
   * Stops accepting, lets requests in flight finish for up to {@code drainTimeout} (their responses
   * carry {@code Connection: close}; idle connections close at once), then closes everything.
   *
   * @return whether every request finished within the drain timeout
   */
  public boolean shutdown(Duration drainTimeout) {
    context.startDraining();
    for (Channel listener : listeners) {
      listener.close().awaitUninterruptibly();
    }
    clients.forEach(ch -> ch.pipeline().fireUserEventTriggered(FrontendHandler.DrainEvent.INSTANCE));
    long deadline = System.nanoTime() + drainTimeout.toNanos();
    boolean drained = true;
    while (!clients.isEmpty() && context.metrics.inFlight() > 0) {
      if (System.nanoTime() > deadline) {
        drained = false;
        log.warn("drain timeout {} passed with {} request(s) in flight; closing them", drainTimeout,
            context.metrics.inFlight());
        break;
      }
      clients.newCloseFuture().awaitUninterruptibly(50, TimeUnit.MILLISECONDS);
    }
    clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    if (healthTicker != null) {
      healthTicker.cancel(false);
    }
    context.routing().groups().values().forEach(r -> {
      if (r.checker() != null) {
        r.checker().close();
      }
    });
    reloaders.forEach(CertificateReloader::close);
    ocspThread.shutdownNow();
    context.pools.closeAll();
    context.clientRegions.close();
    workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    return drained;
  }

  @Override
  public void close() {
    shutdown(Duration.ZERO);
  }
}
