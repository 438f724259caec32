package dev.meridian.proxy.server;

import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.GroupStats;
import dev.meridian.health.ActiveHealthChecker;
import dev.meridian.health.HealthRegistry;
import dev.meridian.health.OutlierDetector;
import dev.meridian.balancer.NanoClock;
import dev.meridian.balancer.RegionalSelector;
import dev.meridian.proxy.accesslog.AccessLog;
import dev.meridian.proxy.cache.EdgeCache;
import dev.meridian.proxy.config.InvalidConfigException;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.MeridianSettings.ListenerSettings;
import dev.meridian.proxy.discovery.BackendDiscovery;
import dev.meridian.proxy.http.NeverIndexedHeaders;
import dev.meridian.proxy.metrics.ProxyMetrics;
import dev.meridian.proxy.regions.OperatorOverrides;
import dev.meridian.proxy.regions.RegionCounters;
import dev.meridian.proxy.regions.RegionFault;
import dev.meridian.proxy.routing.Route;
import dev.meridian.proxy.sticky.StickyKeys;
import dev.meridian.proxy.transport.DirectMemory;
import dev.meridian.proxy.transport.Transport;
import dev.meridian.proxy.upstream.UpstreamPools;
import dev.meridian.proxy.upstream.UpstreamSettings;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
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
  /** The monotonic clock of balancing and rate limits. */
  private final NanoClock clock;
  private final Transport transport;
  private final EventLoopGroup acceptGroup;
  private final MultiThreadIoEventLoopGroup workerGroup;
  private final ProxyContext context;
  /** Builds the routing table and groups, and keeps each group's health, traffic and faults by name. */
  private final RoutingAssembler assembler;
  /** Operators' run-time changes and their time limits, swept with the outlier ticks. */
  private final OperatorControls operator;
  private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
  /**
   * Blocking work kept off the event loops: fetching OCSP responses for certificates that name a
   * responder, and checking the sticky keys file.
   */
  private final java.util.concurrent.ScheduledExecutorService blockingTasks =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("meridian-blocking", true));
  private io.netty.util.concurrent.ScheduledFuture<?> healthTicker;
  /** The client listeners, bound at start. */
  private final ClientListeners listeners;
  /** Finds the backends of groups with dns, srv or backends-file entries. */
  private final BackendDiscovery discovery;
  /** The settings the routing in force was built from: {@link #applied} with the discovered backends. */
  private MeridianSettings inForce;
  /** The configuration in force: the one started with, then each reload's. */
  private volatile MeridianSettings applied;

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
    this(settings, registry, clock, java.time.Clock.systemUTC());
  }

  /**
   * Builds the server with the monotonic clock its balancing and health decisions read and the wall
   * clock sticky-session cookies are dated by (tests pass manual ones; Netty's timers still run on real
   * time).
   */
  public ProxyServer(MeridianSettings settings, MeterRegistry registry, NanoClock clock, java.time.Clock wallClock) {
    this.settings = settings;
    this.clock = clock;
    this.applied = settings;
    this.transport = Transport.choose(settings.server().transport());
    int threads = settings.server().eventLoopThreads() > 0
        ? settings.server().eventLoopThreads() : NettyRuntime.availableProcessors();
    this.acceptGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("meridian-accept"),
        transport.ioHandlerFactory());
    this.workerGroup = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("meridian-io"),
        transport.ioHandlerFactory());
    this.assembler = new RoutingAssembler(clock, workerGroup, transport);
    RoutingAssembler.Assembly assembly = assembler.assemble(settings, Map.of(), Map.of());
    UpstreamPools pools = new UpstreamPools(upstreamSettings(settings, transport));
    pools.links(assembly.links());
    ProxyMetrics metrics = new ProxyMetrics(registry);
    pools.reportConnectTimes((backend, nanos) -> metrics.upstreamConnected(backend.id(), nanos));
    metrics.upstreamConnectionBudget(pools.budget()::open, pools.budget().max());
    EdgeCache cache = new EdgeCache(settings.cache().maxSize(), settings.cache().maxObjectSize(), clock::nanoTime,
        settings.timeouts().responseHeaders().toNanos());
    metrics.registerCache(cache);
    AccessLog accessLog = settings.accessLog().enabled() ? AccessLog.start(settings.accessLog()) : null;
    if (accessLog != null) {
      metrics.registerAccessLog(accessLog);
      log.info("access log to {}, {} format{}", settings.accessLog().file().map(Object::toString).orElse("standard output"),
          settings.accessLog().format().name().toLowerCase(java.util.Locale.ROOT),
          settings.accessLog().sample() < 1.0 ? " (sample " + settings.accessLog().sample() + ")" : "");
    }
    this.context = new ProxyContext(settings, assembly.routing(), pools, metrics, loadStickyKeys(settings),
        wallClock, cache, accessLog, clock);
    this.operator = new OperatorControls(context, assembler.healthByGroup(), assembler.faultsByGroup(),
        new OperatorOverrides(clock::nanoTime));
    MeterReadings.register(context, assembly.routing().groups(), assembler::health);
    this.listeners = new ClientListeners(settings, context, transport, acceptGroup, workerGroup, clients, blockingTasks);
    this.discovery = new BackendDiscovery(workerGroup, transport.datagramChannel(), blockingTasks, registry,
        this::discoveredBackendsChanged);
    this.inForce = settings;
  }

  /** How upstream connections are opened and kept under {@code settings}. */
  private static UpstreamSettings upstreamSettings(MeridianSettings settings, Transport transport) {
    return new UpstreamSettings(transport, settings.timeouts().connect(), settings.timeouts().upstreamIdle(),
        settings.upstream().maxIdlePerBackend(), settings.upstream().writeBufferLow(),
        settings.upstream().writeBufferHigh(), 8192, 64 * 1024,
        new NeverIndexedHeaders(settings.headers().requestIdHeader()));
  }

  private static StickyKeys loadStickyKeys(MeridianSettings settings) {
    try {
      StickyKeys keys = StickyKeys.load(settings.sticky().keysFile());
      if (!keys.isShared() && settings.routes().stream().anyMatch(r -> r.sticky().isPresent())) {
        log.warn("sticky sessions: no meridian.sticky.keys-file, so cookies are signed with a random key:"
            + " only this instance honours them, until it restarts");
      }
      return keys;
    } catch (InvalidConfigException e) {
      throw new IllegalArgumentException("sticky keys file: " + e.getMessage(), e);
    }
  }

  /** Binds every listener; returns the bound addresses in listener order (port 0 resolved). */
  public List<InetSocketAddress> start() throws InterruptedException {
    startDiscovery();
    context.routing().groups().values().forEach(r -> {
      if (r.checker() != null) {
        r.checker().start();
      }
    });
    long keysEvery = settings.sticky().reloadInterval().toMillis();
    if (context.stickyKeys.isShared()) {
      blockingTasks.scheduleWithFixedDelay(context.stickyKeys::check, keysEvery, keysEvery, TimeUnit.MILLISECONDS);
    }
    healthTicker = workerGroup.next().scheduleAtFixedRate(() -> {
      context.routing().groups().values().forEach(r -> r.outliers().tick());
      operator.sweep();
    }, 1, 1, TimeUnit.SECONDS);
    List<InetSocketAddress> bound = new ArrayList<>();
    for (ListenerSettings listener : settings.listeners()) {
      bound.add(listeners.bind(listener));
    }
    String why = transport.whyNotBetter();
    log.info("transport {} with {} event loop(s){}", transport.configName(), workerGroup.executorCount(),
        why.isEmpty() ? "" : " (" + why + ")");
    if (DirectMemory.countedByNetty()) {
      log.info(DirectMemory.describe());
    } else {
      log.warn(DirectMemory.describe());
    }
    return bound;
  }

  /**
   * Puts a new configuration in force without closing a connection that stays valid: listeners added
   * are bound, removed ones (or whose address changed) stop accepting and their connections drain,
   * kept ones take new certificates, PROXY protocol and connection limits for new connections; routes
   * and backend groups (strategies, regions, health, retries), limits, timeouts and headers apply to
   * requests that start from now on, while requests already started finish on the old ones. A backend
   * group's protocol or TLS change, and upstream pooling, apply to new upstream connections. What
   * still needs a restart ({@link RestartOnlySettings}) is logged.
   *
   * @throws ReloadRefusedException when a new listener cannot be bound or its certificates do not load,
   *     or a backend group's TLS context cannot be built; nothing changed then
   */
  public synchronized void reload(MeridianSettings next) {
    MeridianSettings current = applied;
    ClientListeners.Pending pendingListeners;
    try {
      pendingListeners = listeners.prepare(next);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ReloadRefusedException(e);
    } catch (RuntimeException e) {
      throw new ReloadRefusedException(e);
    }
    discovery.configure(next);
    MeridianSettings effective = discovery.effective(next);
    RoutingAssembler.Assembly assembly;
    try {
      assembly = assembler.assemble(effective, context.routing().groups(), context.pools.links());
    } catch (RuntimeException e) {
      pendingListeners.abandon();
      discovery.configure(current);
      throw new ReloadRefusedException(e);
    }
    RestartOnlySettings.logChanges(settings, current, next);
    pendingListeners.commit();
    context.pools.settings(upstreamSettings(next, transport));
    Routing routing = putInForce(assembly, effective, context.policies().next(next, clock));
    applied = next;
    log.info("configuration reloaded: {} listener(s), {} route(s), {} backend group(s); changed: {}",
        next.listeners().size(), routing.router().routes().size(), routing.groups().size(),
        dev.meridian.proxy.http.LogText.printable(dev.meridian.proxy.config.SettingsChanges.describe(current, next)));
  }

  /**
   * Builds the routing of {@code effective} (a configuration with its discovered backends) beside the
   * running one and puts it in force with the policies in force.
   */
  private Routing swapRouting(MeridianSettings effective) {
    RoutingAssembler.Assembly assembly = assembler.assemble(effective, context.routing().groups(),
        context.pools.links());
    return putInForce(assembly, effective, context.policies());
  }

  private Routing putInForce(RoutingAssembler.Assembly assembly, MeridianSettings effective,
      RequestPolicies policies) {
    Routing routing = RoutingSwitch.putInForce(context, assembler, assembly, policies);
    inForce = effective;
    return routing;
  }

  /**
   * Starts the discovery sources and waits (at most 3 x {@code discovery.dns.query-timeout}) for their
   * first answers, so traffic starts with the discovered backends in place.
   */
  private void startDiscovery() throws InterruptedException {
    discovery.configure(settings);
    if (!discovery.awaitFirstAnswers(settings.discovery().queryTimeout().multipliedBy(3))) {
      log.warn("discovery: not every source answered in time; starting with the backends found so far");
    }
    applyDiscoveredBackends();
  }

  /** Told by discovery that a group's backends changed: applied off the event loops. */
  private void discoveredBackendsChanged() {
    try {
      blockingTasks.execute(this::applyDiscoveredBackends);
    } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
      // Shutting down: nothing to apply.
    }
  }

  /** Rebuilds the groups with the backends discovery found now, if they differ from those in force. */
  private synchronized void applyDiscoveredBackends() {
    MeridianSettings effective = discovery.effective(applied);
    if (effective.backendGroups().equals(inForce.backendGroups())) {
      return;
    }
    try {
      swapRouting(effective);
    } catch (RuntimeException e) {
      log.error("discovery: cannot put the discovered backends in force; the previous ones stay", e);
    }
  }

  /** The bound client listeners' addresses by listener name, in configuration order (port 0 resolved). */
  public Map<String, InetSocketAddress> listenerAddresses() {
    return listeners.addresses();
  }

  /** Logs an operator's cache purge (what was asked, how many entries went). */
  public void logPurge(Map<String, Object> what) {
    log.info("operator: cache purge {}", what);
  }

  /** The edge cache. */
  public EdgeCache cache() {
    return context.cache;
  }

  /** The health marks of a group's backends (an empty registry for a group not configured). */
  public HealthRegistry health(String group) {
    return assembler.health(group);
  }

  /** The backend groups by name, for the admin API. */
  public Map<String, BackendGroup> groups() {
    return perGroup(GroupRuntime::group);
  }

  /** The regional selector of each group, for the admin API (dials, region order). */
  public Map<String, RegionalSelector> selectors() {
    return perGroup(GroupRuntime::selector);
  }

  /** Operators' run-time changes: dials, ejections, injected faults, with their time limits. */
  public OperatorControls operator() {
    return operator;
  }

  /** The faults injected into a group's regions. */
  public Map<String, RegionFault> faults(String group) {
    return assembler.faults(group);
  }

  /** Requests and errors per region of a group. */
  public Map<String, RegionCounters> traffic(String group) {
    return assembler.traffic(group);
  }

  /** Passive outlier state per group, for the admin API. */
  public Map<String, OutlierDetector> outlierDetectors() {
    return perGroup(GroupRuntime::outliers);
  }

  /** Active check state per group (groups without active checks are absent), for the admin API. */
  public Map<String, ActiveHealthChecker> healthCheckers() {
    return perGroup(GroupRuntime::checker);
  }

  /** The latency and load statistics of each group, for the admin API. */
  public Map<String, GroupStats> stats() {
    return perGroup(GroupRuntime::stats);
  }

  /** Per-backend slots of each group with {@code limits.max-connections} (others are absent), for the admin API. */
  public Map<String, dev.meridian.proxy.upstream.BackendSlots> backendSlots() {
    return perGroup(GroupRuntime::slots);
  }

  /** One part of each group in force, by group name in configuration order; groups without it (null) left out. */
  private <T> Map<String, T> perGroup(java.util.function.Function<GroupRuntime, T> part) {
    Map<String, T> out = new LinkedHashMap<>();
    context.routing().groups().forEach((name, runtime) -> {
      T value = part.apply(runtime);
      if (value != null) {
        out.put(name, value);
      }
    });
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

  /**
   * The restart-only keys (see {@link RestartOnlySettings}) whose value in the configuration applied
   * last differs from the one the process started with, which stays in force until a restart.
   */
  public List<String> awaitingRestart() {
    return RestartOnlySettings.changed(settings, applied);
  }

  /** The configuration last put in force (at start or by a reload). */
  public MeridianSettings settings() {
    return applied;
  }

  /** The recent routing decisions the dashboard shows. */
  public RecentDecisions recentDecisions() {
    return context.recentDecisions;
  }

  /** The upstream pools, for the admin API. */
  public UpstreamPools pools() {
    return context.pools;
  }

  /** Whether the drain has started (a SIGTERM, or a stop): the instance is no longer ready for new traffic. */
  public boolean isDraining() {
    return context.isDraining();
  }

  /**
   * Stops accepting (the listeners close first), lets requests in flight finish for up to
   * {@code drainTimeout} (their responses carry {@code Connection: close}; idle connections close after
   * {@link ClientDrain#GRACE}), then closes everything.
   *
   * @return whether every request finished within the drain timeout
   */
  public boolean shutdown(Duration drainTimeout) {
    // Listeners first: once closed, the kernel hands this process no new connection (with
    // server.reuse-port it hands them to the other process on the port), and nothing accepted
    // from here on can be dropped below.
    listeners.closeListeners();
    discovery.close();
    context.startDraining();
    ClientDrain drain = new ClientDrain(clients, context.metrics);
    boolean drained = drain.await(drainTimeout);
    drain.closeRemaining();
    if (healthTicker != null) {
      healthTicker.cancel(false);
    }
    context.routing().groups().values().forEach(r -> {
      if (r.checker() != null) {
        r.checker().close();
      }
    });
    listeners.closeCertificateReloaders();
    blockingTasks.shutdownNow();
    context.pools.closeAll();
    context.clientRegions.close();
    workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    if (context.accessLog != null) {
      // After the event loops stopped: every connection's close has run, so every request's line is in the ring.
      context.accessLog.close();
    }
    return drained;
  }

  /**
   * Reopens the access log's file (SIGUSR1, after logrotate moved it away), so new lines go to a new
   * file at its path; nothing when the access log is off or goes to standard output.
   */
  public void reopenAccessLog() {
    if (context.accessLog != null && settings.accessLog().file().isPresent()) { // restart-only: as started
      context.accessLog.reopen();
    }
  }

  @Override
  public void close() {
    shutdown(Duration.ZERO);
  }
}
