package dev.meridian.proxy.server;

import dev.meridian.balancer.NanoClock;
import dev.meridian.balancer.ReadYourWritesCookie;
import dev.meridian.balancer.geo.ClientRegionResolver;
import dev.meridian.balancer.geo.GeoSettings;
import dev.meridian.proxy.accesslog.AccessLog;
import dev.meridian.proxy.cache.EdgeCache;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.http.RequestHeadRewriter;
import dev.meridian.proxy.http.ResponseHeadRewriter;
import dev.meridian.proxy.metrics.ProxyMetrics;
import dev.meridian.proxy.sticky.StickyKeys;
import dev.meridian.proxy.upstream.UpstreamPools;
import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * What every client connection's handlers share: the router, header rewriters, limits, pools,
 * metrics, the sticky-session keys and wall clock, the edge cache, the access log, and whether the
 * server is draining.
 */
final class ProxyContext {
  final MeridianSettings settings;
  private volatile Routing routing;
  final ReadYourWritesCookie readYourWrites;
  final ClientRegions clientRegions;
  final RequestHeadRewriter requestRewriter;
  final ResponseHeadRewriter responseRewriter;
  final UpstreamPools pools;
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
  /** Requests a second per client address, or null for no limit. */
  final ClientRateLimiter rateLimiter;
  /** Whether selectors record why they chose (debug headers, or the access log's decisions). */
  final boolean explainDecisions;
  private final Clock wallClock;
  private volatile boolean draining;

  ProxyContext(MeridianSettings settings, Routing routing, UpstreamPools pools, ProxyMetrics metrics,
      StickyKeys stickyKeys, Clock wallClock, EdgeCache cache, AccessLog accessLog, NanoClock clock) {
    this.settings = settings;
    this.routing = routing;
    this.readYourWrites = settings.cookieSecret()
        .map(secret -> new ReadYourWritesCookie(secret.getBytes(StandardCharsets.UTF_8)))
        .orElseGet(ReadYourWritesCookie::withRandomSecret);
    GeoSettings geo = settings.geo();
    boolean geoConfigured = geo.clientRegionHeader() != null || geo.countryHeader() != null
        || !geo.networks().isEmpty() || geo.database().isPresent();
    this.clientRegions = new ClientRegions(ClientRegionResolver.create(geo,
        SettingsLoader.knownRegions(settings.region(), settings.backendGroups())), geoConfigured);
    this.requestRewriter = new RequestHeadRewriter(settings.headers());
    this.responseRewriter = new ResponseHeadRewriter(settings.headers());
    this.pools = pools;
    this.metrics = metrics;
    this.stickyKeys = stickyKeys;
    this.wallClock = wallClock;
    this.cache = cache;
    this.accessLog = accessLog;
    this.trustedProxies = trustedProxies(geo);
    this.rateLimiter = ClientRateLimiter.of(settings.limits().clientRequestRate(),
        settings.limits().clientRequestBurst(), clock);
    this.explainDecisions = settings.debugHeaders() || (accessLog != null && settings.accessLog().decisions());
  }

  /** Records the certificates of the TLS listener bound to {@code port}. */
  void certificates(int port, io.netty.util.Mapping<String, io.netty.handler.ssl.SslContext> mapping) {
    certificates.put(port, mapping);
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

  /** The routes and groups in force now; a request keeps the snapshot it started with. */
  Routing routing() {
    return routing;
  }

  /** Puts a reloaded configuration's routes and groups in force for requests that start from now on. */
  void swap(Routing next) {
    this.routing = next;
  }

  /** Whether shutdown has begun: no new keep-alive, responses carry Connection: close. */
  boolean isDraining() {
    return draining;
  }

  void startDraining() {
    draining = true;
  }
}
