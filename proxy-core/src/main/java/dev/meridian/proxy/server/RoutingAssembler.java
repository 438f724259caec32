package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.BackendSelector;
import dev.meridian.balancer.ConsistentHashSelector;
import dev.meridian.balancer.GroupStats;
import dev.meridian.balancer.HealthView;
import dev.meridian.balancer.NanoClock;
import dev.meridian.balancer.RegionPolicy;
import dev.meridian.balancer.RegionalSelector;
import dev.meridian.balancer.RetryBudget;
import dev.meridian.proxy.routing.HedgeDelay;
import dev.meridian.balancer.Strategies;
import dev.meridian.balancer.StrategyOptions;
import dev.meridian.health.ActiveHealthChecker;
import dev.meridian.health.CheckConnections;
import dev.meridian.health.HealthRegistry;
import dev.meridian.health.OutlierDetector;
import dev.meridian.health.SlowStart;
import dev.meridian.health.SlowStartRamps;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendGroupSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import dev.meridian.proxy.config.MeridianSettings.HealthSettings;
import dev.meridian.proxy.config.MeridianSettings.RegionSettings;
import dev.meridian.proxy.config.MeridianSettings.RouteSettings;
import dev.meridian.proxy.regions.RegionCounters;
import dev.meridian.proxy.regions.RegionFault;
import dev.meridian.proxy.regions.RegionFaults;
import dev.meridian.proxy.regions.RegionTraffic;
import dev.meridian.proxy.routing.HostPattern;
import dev.meridian.proxy.routing.Residency;
import dev.meridian.proxy.routing.Route;
import dev.meridian.proxy.routing.Router;
import dev.meridian.proxy.routing.StickyPolicy;
import dev.meridian.proxy.transport.Transport;
import dev.meridian.proxy.upstream.BackendLink;
import dev.meridian.proxy.upstream.ProxyHeaderWriter;
import dev.meridian.proxy.upstream.UpstreamProtocol;
import dev.meridian.proxy.upstream.UpstreamProxyProtocol;
import dev.meridian.proxy.upstream.UpstreamTls;
import dev.meridian.tls.UpstreamTlsContexts;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.ApplicationProtocolNames;
import dev.meridian.proxy.upstream.BackendSlots;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds what requests are routed with from the settings: the backend groups, each with its selectors
 * (strategy, regions, slow start), statistics, outlier detector and active checker; the routes over
 * them; and how each backend is spoken to. A reload builds the next set beside the running one: each
 * backend's statistics carry over, and a group's health marks, region traffic and injected faults are
 * kept here by group name, so operator marks (drains, ejections) survive a reload.
 *
 * <p>Thread-safe for the per-group state; {@link #assemble} is called by one thread at a time.
 */
final class RoutingAssembler {
  private static final Logger log = LoggerFactory.getLogger(RoutingAssembler.class);

  /** The monotonic clock of every time-dependent decision: EWMA decay, ejections, retry budgets. */
  private final NanoClock clock;
  /** The event loops active health checks run on. */
  private final EventLoopGroup checkLoops;
  private final Transport transport;
  /**
   * Health marks per group: a backend listed in two groups (same id or address) has separate state in
   * each, since each group checks it its own way.
   */
  private final Map<String, HealthRegistry> healthByGroup = new ConcurrentHashMap<>();
  /** Requests and errors per region of each group. */
  private final Map<String, RegionTraffic> trafficByGroup = new ConcurrentHashMap<>();
  /** Faults injected per region of each group (drills). */
  private final Map<String, RegionFaults> faultsByGroup = new ConcurrentHashMap<>();
  /** Each limited group's backend slots, kept across reloads. */
  private final Map<String, BackendSlots> slotsByGroup = new ConcurrentHashMap<>();
  /**
   * Each group's slow-start ramps, kept across reloads and discovery updates and subscribed to its
   * health registry once (a subscription per rebuild piled up, one per DNS refresh).
   */
  private final Map<String, SlowStartRamps> rampsByGroup = new ConcurrentHashMap<>();
  /** Per group, the operator's dials of regions that left it, kept for when they come back. */
  private final Map<String, Map<String, Integer>> dialsOfGoneRegions = new ConcurrentHashMap<>();

  RoutingAssembler(NanoClock clock, EventLoopGroup checkLoops, Transport transport) {
    this.clock = clock;
    this.checkLoops = checkLoops;
    this.transport = transport;
  }

  /** The routing table and groups, and how each backend is spoken to, that a configuration puts in force. */
  record Assembly(Routing routing, Map<Backend, BackendLink> links) {}

  /**
   * Builds the groups, routes and backend links of {@code settings}. Statistics of backends that were
   * in a group of the same name in {@code previous}, and links that did not change in
   * {@code previousLinks}, are kept (empty maps at start). Active checkers are built, not started.
   */
  Assembly assemble(MeridianSettings settings, Map<String, GroupRuntime> previous,
      Map<Backend, BackendLink> previousLinks) {
    Map<String, BackendGroup> groups = buildGroups(settings);
    Map<String, BackendLink> links = groupLinks(settings, groups, previousLinks);
    Map<String, GroupRuntime> runtimes = buildRuntimes(settings, groups, links, previous);
    Router router = new Router(buildRoutes(settings, runtimes));
    Map<Backend, BackendLink> byBackend = new HashMap<>();
    groups.forEach((name, group) -> group.backends().forEach(b -> byBackend.put(b, links.get(name))));
    return new Assembly(new Routing(router, Map.copyOf(runtimes)), byBackend);
  }

  /** The health marks of a group's backends (an empty registry for a group not configured). */
  HealthRegistry health(String group) {
    return healthByGroup.computeIfAbsent(group, g -> new HealthRegistry());
  }

  /** The faults injected into a group's regions. */
  Map<String, RegionFault> faults(String group) {
    RegionFaults faults = faultsByGroup.get(group);
    return faults == null ? Map.of() : faults.all();
  }

  /** Requests and errors per region of a group. */
  Map<String, RegionCounters> traffic(String group) {
    RegionTraffic traffic = trafficByGroup.get(group);
    return traffic == null ? Map.of() : traffic.all();
  }

  /** The per-group state kept by name, for the operator controls. */
  Map<String, HealthRegistry> healthByGroup() {
    return healthByGroup;
  }

  /** The injected faults kept by group name, for the operator controls. */
  Map<String, RegionFaults> faultsByGroup() {
    return faultsByGroup;
  }

  /** Drops the state of groups no longer configured. */
  void keepOnly(Collection<String> groupNames) {
    healthByGroup.keySet().retainAll(groupNames);
    trafficByGroup.keySet().retainAll(groupNames);
    faultsByGroup.keySet().retainAll(groupNames);
    slotsByGroup.keySet().retainAll(groupNames);
    rampsByGroup.keySet().retainAll(groupNames);
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

  /**
   * An operator's region dials outlast a reload and a discovery update, as ejections and drains do
   * (they went back to 100%, silently undoing a drained region); a dial's time limit, if it had one,
   * still restores it. A region that leaves the group (a discovery update that briefly finds none of
   * its backends) keeps its dial for when it comes back.
   */
  private void keepDials(String group, GroupRuntime before, GroupRuntime after) {
    Map<String, Integer> wanted = new HashMap<>(dialsOfGoneRegions.getOrDefault(group, Map.of()));
    if (before != null) {
      before.selector().dials().forEach((region, percent) -> {
        if (percent == 100) {
          wanted.remove(region);
        } else {
          wanted.put(region, percent);
        }
      });
    }
    Map<String, Integer> regions = after.selector().dials();
    Map<String, Integer> gone = new HashMap<>();
    wanted.forEach((region, percent) -> {
      if (regions.containsKey(region)) {
        after.setDial(region, percent);
      } else {
        gone.put(region, percent);
      }
    });
    if (gone.isEmpty()) {
      dialsOfGoneRegions.remove(group);
    } else {
      dialsOfGoneRegions.put(group, gone);
    }
  }

  private Map<String, GroupRuntime> buildRuntimes(MeridianSettings settings, Map<String, BackendGroup> groups,
      Map<String, BackendLink> links, Map<String, GroupRuntime> previous) {
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
      SlowStartRamps ramps = ramps(g.name(), health, group, h.slowStart(), previous.get(g.name()));
      HealthView writeView = SlowStart.wrap(group, health, ramps);
      RegionalSelector selector = new RegionalSelector(group.backends(), writeView, stats, policy, strategy);
      RegionalSelector readSelector = selector;
      if (h.active().flatMap(a -> a.replicationLagHeader()).isPresent()) {
        HealthView readView = SlowStart.wrap(group, health.readView(h.active().get().maxReplicationLag()), ramps);
        readSelector = new RegionalSelector(group.backends(), readView, stats, policy, strategy);
      }
      for (RegionalSelector each : List.of(selector, readSelector)) {
        each.onPanicChange((panic, region, capacity) ->
            logPanic(g.name(), panic, region, capacity, r.panicThreshold()));
      }
      OutlierDetector outliers = new OutlierDetector(group, health, h.passive(),
          h.passive().latencyOutliersEnabled() ? stats : null, clock);
      ActiveHealthChecker checker = h.active().map(a -> new ActiveHealthChecker(group, a, health, outliers,
          checkLoops, transport.socketChannel(), checkConnections(g, links.get(g.name()), a.port() == 0))).orElse(null);
      GroupRuntime before = previous.get(g.name());
      if (checker != null && before != null && before.checker() != null) {
        // The backends that stay keep their check state (a reload, a discovery update); their
        // ejections are taken over when the groups are swapped (RoutingSwitch).
        checker.takeOver(before.checker());
      }
      GroupRuntime runtime = GroupRuntime.of(group, selector, readSelector, stats, outliers, checker, g,
          trafficByGroup.computeIfAbsent(g.name(), n -> new RegionTraffic()),
          faultsByGroup.computeIfAbsent(g.name(), n -> new RegionFaults()),
          new StickyTargets(group, hashesAppCookies(settings, g.name())
              ? appCookieSelector(group, health, stats, options) : null),
          slots(g), links.get(g.name()));
      keepDials(g.name(), before, runtime);
      runtimes.put(g.name(), runtime);
    }
    return runtimes;
  }

  /**
   * The group's slow-start ramps, set to its current length: a ramp under way goes on across the
   * rebuild, and a backend the rebuild adds to a group that ran before ramps from now (at start, and
   * for a group new in this reload, backends take their full share at once: there is nothing else).
   */
  private SlowStartRamps ramps(String name, HealthRegistry health, BackendGroup group, java.time.Duration slowStart,
      GroupRuntime before) {
    SlowStartRamps ramps = rampsByGroup.computeIfAbsent(name, n -> {
      SlowStartRamps made = new SlowStartRamps(clock);
      health.addListener(made);
      return made;
    });
    ramps.duration(slowStart);
    List<String> ids = group.backends().stream().map(Backend::id).toList();
    ramps.retainOnly(ids);
    if (before != null) {
      for (String id : ids) {
        if (before.group().find(id) == null) {
          ramps.start(id);
        }
      }
    }
    return ramps;
  }

  /**
   * What each active check connection of the group starts with: for a group whose backends expect the
   * PROXY protocol, a header of Meridian's own (v2 {@code LOCAL}, v1 {@code UNKNOWN}: the backend takes
   * the connection's addresses), as HAProxy's {@code check-send-proxy} does; else nothing.
   */
  /**
   * How the group's check connections speak: as its traffic does (TLS, HTTP/2) when they go to the
   * traffic port; to a check port of their own (a management or status port), plain HTTP/1.1, as
   * HAProxy's checks leave SSL off when their port is changed. Either way with the group's PROXY header.
   */
  private static CheckConnections checkConnections(BackendGroupSettings g, BackendLink link, boolean trafficPort) {
    UpstreamProxyProtocol proxyProtocol = g.proxyProtocol();
    BackendLink spoken = trafficPort ? link : null;
    return new CheckConnections() {
      @Override
      public void setUp(Channel ch, Backend backend) {
        if (proxyProtocol.sends()) {
          ProxyHeaderWriter.install(ch.pipeline(), proxyProtocol, null);
        }
        if (spoken != null && spoken.tls() != null) {
          ch.pipeline().addLast("tls", spoken.tls().newHandler(ch, backend.host(), backend.port()));
        }
      }

      @Override
      public boolean http2() {
        return spoken != null && spoken.protocol().isHttp2();
      }
    };
  }

  /**
   * The group's per-backend slots, or null without a limit. Kept across reloads, so requests already
   * holding a slot still count against the new limit.
   */
  private BackendSlots slots(BackendGroupSettings g) {
    var limits = g.limits();
    if (!limits.limited()) {
      slotsByGroup.remove(g.name());
      return null;
    }
    BackendSlots slots = slotsByGroup.computeIfAbsent(g.name(),
        n -> new BackendSlots(limits.maxConnections(), limits.maxPending()));
    slots.limits(limits.maxConnections(), limits.maxPending());
    return slots;
  }

  private static boolean hashesAppCookies(MeridianSettings settings, String group) {
    return settings.routes().stream().anyMatch(r -> r.backendGroup().equals(group)
        && r.sticky().map(p -> p.mode() == StickyPolicy.Mode.APP_COOKIE).orElse(false));
  }

  /**
   * The consistent-hash selector app-cookie sessions go through: the whole group (sessions are not
   * split by the client's region), with the group's hashing and bounded load; a draining backend keeps
   * the sessions that hash to it.
   */
  private static BackendSelector appCookieSelector(BackendGroup group, HealthRegistry health, GroupStats stats,
      StrategyOptions options) {
    HealthView pinnedView = health::isAvailableToPinned;
    return new ConsistentHashSelector(group.backends(), pinnedView, stats,
        ConsistentHashSelector.Algorithm.of(options.hashing()), options.boundedLoad(), options.random());
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
          Set.copyOf(r.upgrades()), r.tunnelIdle().orElse(settings.timeouts().tunnelIdle()),
          r.responseHeaders().orElse(settings.timeouts().responseHeaders()),
          r.responseDeadline().orElse(settings.timeouts().responseDeadline()), residency, r.retries(),
          new RetryBudget(r.retries().budget(), r.retries().minPerSecond(), clock), r.sticky().orElse(null),
          r.cache().orElse(null), r.hedge().map(h -> new HedgeDelay(h, clock)).orElse(null)));
    }
    return routes;
  }

  /**
   * How each group's backends are spoken to: its protocol, its PROXY protocol header and, where the
   * group enables TLS, a client context (built once per group) whose ALPN offers just that protocol. A
   * link that did not change since {@code previous} is kept, so its pooled connections stay in use.
   */
  private static Map<String, BackendLink> groupLinks(MeridianSettings settings,
      Map<String, BackendGroup> groups, Map<Backend, BackendLink> previous) {
    Map<String, BackendLink> out = new HashMap<>();
    for (BackendGroupSettings g : settings.backendGroups().values()) {
      BackendLink kept = groups.get(g.name()).backends().stream().map(previous::get)
          .filter(l -> l != null && l.protocol() == g.protocol() && l.proxyProtocol() == g.proxyProtocol()
              && (l.tls() == null ? !g.tls().enabled() : l.tls().settings().equals(g.tls())))
          .findFirst().orElse(null);
      if (kept != null) {
        out.put(g.name(), kept);
        continue;
      }
      UpstreamTls tls = null;
      if (g.tls().enabled()) {
        String alpn = g.protocol() == UpstreamProtocol.H2
            ? ApplicationProtocolNames.HTTP_2 : ApplicationProtocolNames.HTTP_1_1;
        tls = new UpstreamTls(UpstreamTlsContexts.client(g.tls(), List.of(alpn)), g.tls());
      }
      out.put(g.name(), new BackendLink(g.protocol(), tls, g.proxyProtocol()));
    }
    return out;
  }
}
