package dev.meridian.proxy.server;

import dev.meridian.balancer.NanoClock;
import dev.meridian.balancer.geo.ClientRegionResolver;
import dev.meridian.balancer.geo.GeoSettings;
import dev.meridian.proxy.accesslog.AccessLog;
import dev.meridian.proxy.cache.EdgeCache;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.metrics.ProxyMetrics;
import dev.meridian.proxy.sticky.StickyKeys;
import dev.meridian.proxy.upstream.UpstreamPools;
import java.time.Clock;

/**
 * What every client connection's handlers share: the routes, groups and request policies in force
 * (header rewriters, limits, timeouts; swapped whole by a reload), pools, metrics, the sticky-session
 * keys and wall clock, the edge cache, the access log, and whether the server is draining.
 */
final class ProxyContext {
  /** The routes, groups and request policies in force; a reload replaces it whole. */
  private volatile InForce inForce;
  final ClientRegions clientRegions;
  final UpstreamPools pools;
  /** The socket transport the server started with (a reload keeps it). */
  final dev.meridian.proxy.transport.Transport transport;
  final ProxyMetrics metrics;
  /** The edge cache shared by every route with {@code cache}. */
  final EdgeCache cache;
  /** The sticky-session cookie codec in force (the keys file's keys). */
  final StickyKeys stickyKeys;
  /** The access log, or null when it is off. */
  final AccessLog accessLog;
  /** The few recent routing decisions the dashboard shows. */
  final RecentDecisions recentDecisions = new RecentDecisions(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(250));
  /** Each TLS listener's certificates by its bound port (filled in as the listeners bind). */
  private final java.util.Map<Integer, io.netty.util.Mapping<String, io.netty.handler.ssl.SslContext>> certificates =
      new java.util.concurrent.ConcurrentHashMap<>();
  /** Proxies whose forwarding headers are kept ({@code geo.trusted-proxies}, {@code geo.trusted-hops}). */
  final dev.meridian.balancer.geo.TrustedProxies trustedProxies;
  /** Which request failures reach the application log (one per backend and kind a second). */
  final FailureLogLimit failureLog;
  private final Clock wallClock;
  private volatile boolean draining;

  ProxyContext(MeridianSettings settings, Routing routing, UpstreamPools pools, ProxyMetrics metrics,
      StickyKeys stickyKeys, Clock wallClock, EdgeCache cache, AccessLog accessLog, NanoClock clock) {
    this.transport = dev.meridian.proxy.transport.Transport.choose(settings.server().transport());
    this.inForce = new InForce(routing, RequestPolicies.initial(settings,
        accessLog != null && settings.accessLog().decisions(), clock));
    GeoSettings geo = settings.geo();
    boolean geoConfigured = geo.clientRegionHeader() != null || geo.countryHeader() != null
        || !geo.networks().isEmpty() || geo.database().isPresent();
    this.clientRegions = new ClientRegions(ClientRegionResolver.create(geo,
        SettingsLoader.knownRegions(settings.region(), settings.backendGroups())), geoConfigured);
    this.pools = pools;
    this.metrics = metrics;
    this.stickyKeys = stickyKeys;
    this.wallClock = wallClock;
    this.cache = cache;
    this.accessLog = accessLog;
    this.trustedProxies = trustedProxies(geo);
    this.failureLog = new FailureLogLimit(clock, java.util.concurrent.TimeUnit.SECONDS.toNanos(1));
  }

  /** Records the certificates of the TLS listener bound to {@code port}; null forgets them (cleartext, or closed). */
  void certificates(int port, io.netty.util.Mapping<String, io.netty.handler.ssl.SslContext> mapping) {
    if (mapping == null) {
      certificates.remove(port);
    } else {
      certificates.put(port, mapping);
    }
  }

  /** The certificates of the TLS listener bound to {@code port}, or null (cleartext, or unknown). */
  io.netty.util.Mapping<String, io.netty.handler.ssl.SslContext> certificates(int port) {
    return certificates.get(port);
  }

  /** The trusted proxies; none when the list is invalid (the geo settings' validation names the entry). */
  private static dev.meridian.balancer.geo.TrustedProxies trustedProxies(GeoSettings geo) {
    try {
      return dev.meridian.balancer.geo.TrustedProxies.of(geo.trustedProxies(), geo.trustedHops());
    } catch (IllegalArgumentException e) {
      return dev.meridian.balancer.geo.TrustedProxies.none();
    }
  }

  /** The wall-clock time in epoch milliseconds (access log lines). */
  long epochMillis() {
    return wallClock.millis();
  }

  /** The wall-clock time in epoch seconds (sticky cookies' issue times). */
  long epochSeconds() {
    return epochMillis() / 1000;
  }

  /**
   * What a request is served with, read once when its head arrives (one volatile read) and kept to its
   * end: the routes and groups, and the request policies.
   */
  record InForce(Routing routing, RequestPolicies policies) {}

  /** The routes, groups and policies in force now. */
  InForce inForce() {
    return inForce;
  }

  /** The routes and groups in force now; a request keeps the snapshot it started with. */
  Routing routing() {
    return inForce.routing();
  }

  /** The request policies in force now; a connection or request keeps the one it started with. */
  RequestPolicies policies() {
    return inForce.policies();
  }

  /** Puts a reloaded configuration's routes and groups in force for requests that start from now on. */
  synchronized void swap(Routing next) {
    inForce = new InForce(next, inForce.policies());
  }

  /** Puts new routes, groups and policies in force at once, for requests that start from now on. */
  synchronized void swap(Routing next, RequestPolicies policies) {
    inForce = new InForce(next, policies);
  }

  /** Whether shutdown has begun: no new keep-alive, responses carry Connection: close. */
  boolean isDraining() {
    return draining;
  }

  void startDraining() {
    draining = true;
  }
}
