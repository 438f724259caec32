package dev.meridian.proxy.config;

import dev.meridian.proxy.http.HeaderSettings;
import dev.meridian.proxy.routing.RetrySettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything Meridian reads from its configuration, validated and typed: the single value the server
 * is built from and a reload replaces.
 *
 * <p>Produced only by {@link SettingsLoader}, which reports every problem of a file at once; a value
 * of this type is therefore always complete and consistent (every route names an existing group,
 * listener addresses are distinct, durations are positive).
 *
 * @param region        where this instance runs ({@code meridian.region}), if set
 * @param listeners     client-facing listeners, at least one
 * @param admin         the admin listener (metrics, JSON state)
 * @param backendGroups backend groups by name, in file order
 * @param routes        routes in match order
 * @param server        transport, threads and shutdown
 * @param limits        request size and time limits
 * @param timeouts      connect, response and idle timeouts
 * @param upstream      upstream connection pooling and retries
 * @param headers       the headers the proxy adds
 * @param geo           how a client's region is found ({@code meridian.geo})
 * @param debugHeaders  responses say which backend answered and why ({@code meridian.debug-headers})
 * @param cookieSecret  key that signs Meridian's cookies ({@code meridian.cookie-secret}); random per
 *                      process when absent (cookies then do not survive a restart or another instance)
 * @param sticky        where sticky sessions' signing keys come from ({@code meridian.sticky})
 * @param cache         the edge cache's bounds ({@code meridian.cache})
 * @param accessLog     the access log ({@code meridian.access-log})
 * @param tracing       W3C trace context propagation ({@code meridian.tracing})
 * @param paths         how request paths are normalized before routing ({@code meridian.paths})
 * @param source        the configuration as written, as HOCON, with secrets (keys naming a secret,
 *                      password or token) replaced by {@code <redacted>}: what the admin API shows
 * @param discovery     how discovered backends are found and refreshed ({@code meridian.discovery})
 */
public record MeridianSettings(
    Optional<String> region,
    List<ListenerSettings> listeners,
    AdminSettings admin,
    Map<String, BackendGroupSettings> backendGroups,
    List<RouteSettings> routes,
    ServerSettings server,
    LimitSettings limits,
    TimeoutSettings timeouts,
    UpstreamSettings upstream,
    HeaderSettings headers,
    dev.meridian.balancer.geo.GeoSettings geo,
    boolean debugHeaders,
    Optional<String> cookieSecret,
    StickySettings sticky,
    CacheSettings cache,
    dev.meridian.proxy.accesslog.AccessLogSettings accessLog,
    TracingSettings tracing,
    dev.meridian.proxy.routing.PathPolicy paths,
    String source,
    DiscoverySettings discovery) {

  /** These settings with other backend groups (a discovery update: the same groups, other backends). */
  public MeridianSettings withBackendGroups(Map<String, BackendGroupSettings> groups) {
    return new MeridianSettings(region, listeners, admin, groups, routes, server, limits, timeouts, upstream,
        headers, geo, debugHeaders, cookieSecret, sticky, cache, accessLog, tracing, paths, source, discovery);
  }

  /**
   * A client-facing listener: {@code meridian.listeners[]}.
   *
   * @param name    the listener's name, for logs
   * @param address where it binds
   * @param tls     TLS termination (certificates by SNI, ALPN h2 and http/1.1), or empty for cleartext
   *                (HTTP/1.1 and HTTP/2 with prior knowledge)
   * @param proxyProtocolFrom networks of the load balancers that open every connection with a PROXY
   *                protocol header (v1 or v2) naming the client; empty: no PROXY protocol
   * @param maxConnections client connections this listener holds at once, or empty for
   *                {@code limits.max-connections}
   */
  public record ListenerSettings(String name, HostPort address, Optional<dev.meridian.tls.ServerTlsSettings> tls,
      List<String> proxyProtocolFrom, java.util.OptionalInt maxConnections) {

    /** A listener without the PROXY protocol, under the process-wide connection limit. */
    public ListenerSettings(String name, HostPort address, Optional<dev.meridian.tls.ServerTlsSettings> tls) {
      this(name, address, tls, List.of(), java.util.OptionalInt.empty());
    }

    /** A cleartext listener. */
    public ListenerSettings(String name, HostPort address) {
      this(name, address, Optional.empty());
    }
  }

  /**
   * The admin listener: {@code meridian.admin}; disabled when {@code enabled = false}.
   *
   * @param token   the bearer token every admin call but {@code /healthz} must carry (read from
   *                {@code token-file}), or empty for none
   * @param metrics whether meters are recorded and {@code /metrics} served ({@code admin.metrics})
   */
  public record AdminSettings(boolean enabled, HostPort address, Optional<String> token, boolean metrics,
      List<String> allowedHosts) {
    @Override
    public String toString() {
      return "AdminSettings[enabled=" + enabled + ", address=" + address + ", token="
          + (token.isPresent() ? "<set>" : "none") + ", metrics=" + metrics + ", allowedHosts=" + allowedHosts + "]";
    }
  }

  /**
   * A named set of backends and how one is picked: {@code meridian.backend-groups.NAME}.
   *
   * @param name      the group's name
   * @param strategy  the selection strategy inside a region
   * @param backends  the backends
   * @param regions   how requests spread over regions
   * @param hash      the key and table of {@code consistent-hash}
   * @param ewmaDecay decay time of the latency EWMA (peak-ewma, latency ordering)
   * @param health    active checks, passive detection and slow start
   * @param tls       TLS to the group's backends (disabled by default)
   * @param protocol  the HTTP version spoken to the backends
   * @param limits    how many requests each backend is sent at once, and how the rest wait
   * @param proxyProtocol the PROXY protocol header each connection to a backend opens with (none by
   *                  default); such a connection serves one client connection only
   * @param sources   where more backends are discovered (DNS, SRV, a file), in configuration order;
   *                  empty when every backend is in {@code backends}
   */
  public record BackendGroupSettings(String name, String strategy, List<BackendSettings> backends,
      RegionSettings regions, HashSettings hash, Duration ewmaDecay, HealthSettings health,
      dev.meridian.tls.UpstreamTlsSettings tls, dev.meridian.proxy.upstream.UpstreamProtocol protocol,
      BackendLimitSettings limits, dev.meridian.proxy.upstream.UpstreamProxyProtocol proxyProtocol,
      List<BackendSourceSettings> sources) {

    /** This group with another backend list (its written backends and those discovered). */
    public BackendGroupSettings withBackends(List<BackendSettings> next) {
      return new BackendGroupSettings(name, strategy, List.copyOf(next), regions, hash, ewmaDecay, health, tls,
          protocol, limits, proxyProtocol, sources);
    }
  }

  /**
   * A group's per-backend concurrency: {@code backend-groups.NAME.limits}.
   *
   * @param maxConnections requests each backend is sent at once (on HTTP/1.1, its connections in use);
   *                       0 for no limit
   * @param maxPending     requests of the group that may wait for a full backend at once; beyond, 503
   * @param queueTimeout   how long one request waits; then 503
   */
  public record BackendLimitSettings(int maxConnections, int maxPending, Duration queueTimeout) {
    /** No limit: the default. */
    public static final BackendLimitSettings NONE = new BackendLimitSettings(0, 1024, Duration.ofSeconds(1));

    /** Whether a limit is set. */
    public boolean limited() {
      return maxConnections > 0;
    }
  }

  /**
   * Health of a group's backends: {@code backend-groups.NAME.health}.
   *
   * @param active    active checks, if configured (none by default)
   * @param passive   passive outlier detection (on by default)
   * @param slowStart ramp-up time of a backend that becomes available (0 = off)
   */
  public record HealthSettings(Optional<dev.meridian.health.ActiveCheckSettings> active,
      dev.meridian.health.PassiveSettings passive, Duration slowStart) {}

  /**
   * Region steering of a group: {@code backend-groups.NAME.regions}.
   *
   * @param failover       client region to ordered regions ({@code default} for any other); empty:
   *                       client region, then {@code meridian.region}, then the rest by latency
   * @param spillOver      overprovisioning factor, at least 1 (default 1.4)
   * @param latencyMargin  leave the preferred region when slower than the next by more (0: off)
   * @param writer         region for non-idempotent requests, if any
   * @param readYourWrites after a write, the client's reads stay in the writer region this long (0: off)
   * @param panicThreshold healthy fraction below which health is ignored (default 0.5)
   */
  public record RegionSettings(Map<String, List<String>> failover, double spillOver, Duration latencyMargin,
      Optional<String> writer, Duration readYourWrites, double panicThreshold) {}

  /**
   * The consistent-hash key and table: {@code backend-groups.NAME.hash}.
   *
   * @param key         {@code header:NAME}, {@code cookie:NAME} or {@code client-address}
   * @param algorithm   {@code maglev} (default) or {@code ring}
   * @param boundedLoad a backend above this factor x the average load is passed over (default 1.25)
   */
  public record HashSettings(String key, String algorithm, double boundedLoad) {}

  /**
   * Data residency of a route: {@code routes[].residency}.
   *
   * @param header  the request header naming the residency class (e.g. X-Data-Residency)
   * @param regions residency class to the only regions its requests may reach
   */
  public record ResidencySettings(String header, Map<String, List<String>> regions) {}

  /**
   * One backend server: {@code backend-groups.NAME.backends[]}.
   *
   * @param id      stable identifier, defaults to the address text
   * @param address where it listens
   * @param region  region it runs in, {@code "default"} when not given
   * @param zone    zone inside the region, empty when not given
   * @param weight  relative weight, 1 when not given
   */
  public record BackendSettings(String id, HostPort address, String region, String zone, int weight) {}

  /**
   * One route: {@code meridian.routes[]}; matched in order, first match wins.
   *
   * @param name         name used in logs and metrics
   * @param host         host pattern: exact name or {@code *.suffix}; empty means any host
   * @param pathPrefix   path prefix, {@code "/"} when not given
   * @param methods      allowed methods in upper case; empty means any method
   * @param backendGroup the backend group that serves it
   * @param rewriteHost  send the backend's authority as Host instead of the client's
   * @param upgrades     protocols a client may switch to through this route (lower case), e.g. websocket
   * @param tunnelIdle   how long a tunnel of this route may pass nothing before it is closed; empty:
   *                     {@code timeouts.tunnel-idle}
   * @param responseHeaders how long a backend has to send its response headers; empty:
   *                     {@code timeouts.response-headers}
   * @param responseDeadline how long a request may wait for its response headers in all, every try
   *                     together; empty: {@code timeouts.response-deadline}; zero: no such limit
   * @param residency    where requests of each residency class may go, if the route restricts it
   * @param retries      when and how often a failed request is tried again
   * @param sticky       the route's sticky sessions, if any
   * @param cache        the route's edge cache, if any
   * @param hedge        the route's hedged requests, if any
   */
  public record RouteSettings(
      String name,
      Optional<String> host,
      String pathPrefix,
      List<String> methods,
      String backendGroup,
      boolean rewriteHost,
      List<String> upgrades,
      Optional<Duration> tunnelIdle,
      Optional<Duration> responseHeaders,
      Optional<Duration> responseDeadline,
      Optional<ResidencySettings> residency,
      RetrySettings retries,
      Optional<dev.meridian.proxy.routing.StickyPolicy> sticky,
      Optional<dev.meridian.proxy.routing.CachePolicy> cache,
      Optional<dev.meridian.proxy.routing.HedgePolicy> hedge) {

    /** This route with other sticky sessions. */
    public RouteSettings withSticky(Optional<dev.meridian.proxy.routing.StickyPolicy> other) {
      return new RouteSettings(name, host, pathPrefix, methods, backendGroup, rewriteHost, upgrades, tunnelIdle,
          responseHeaders, responseDeadline, residency, retries, other, cache, hedge);
    }
  }

  /**
   * The edge cache's bounds: {@code meridian.cache}.
   *
   * @param maxSize       bytes all entries may hold (default 256MiB)
   * @param maxObjectSize the largest body stored (default 8MiB); larger ones stream through uncached
   */
  public record CacheSettings(long maxSize, int maxObjectSize) {}

  /**
   * Sticky sessions' keys: {@code meridian.sticky}.
   *
   * @param keysFile       the JSON file of signing keys ({@code keys-file}); empty: one random key per
   *                       process, so cookies are honoured by this instance only until it restarts
   * @param reloadInterval how often the keys file is checked for changes (default 5s)
   */
  public record StickySettings(Optional<java.nio.file.Path> keysFile, Duration reloadInterval) {}

  /**
   * Process-wide server settings: {@code meridian.server}.
   *
   * @param transport        io_uring, epoll, nio, or auto (epoll, else io_uring, else nio)
   * @param eventLoopThreads event loop threads, 0 meaning one per available processor
   * @param drainTimeout     how long in-flight requests may finish after SIGTERM
   * @param reusePort        whether client listeners bind with SO_REUSEPORT, so that a new process can
   *                         bind the same addresses while this one drains (default false)
   */
  public record ServerSettings(String transport, int eventLoopThreads, Duration drainTimeout, boolean reusePort) {}

  /**
   * Limits on what a client may send: {@code meridian.limits}.
   *
   * @param maxRequestLine     longest request line in bytes (longer: 414)
   * @param maxHeaderBytes     largest header section in bytes (larger: 431)
   * @param maxHeaderCount     most header fields (more: 431)
   * @param requestHeadTimeout time to receive a whole request head (slower: 408)
   * @param maxConnections     client connections each listener holds at once (beyond: accepting pauses)
   * @param maxConnectionsPerClient client connections one address may hold on a listener (0: no limit;
   *                           beyond: closed at once)
   * @param clientRequestRate  requests a second one client address may make (0: no limit; beyond: 429)
   * @param clientRequestBurst requests one client address may make at once above its rate
   * @param minRequestBodyRate bytes a second an HTTP/1.1 request body must average once it has had
   *                           {@code requestHeadTimeout} to arrive (0: no minimum; slower: 408)
   * @param http2ConnectionBuffer response bytes one HTTP/2 client connection may hold back for its
   *                           client (windows closed, socket full) before its backends stop being read
   * @param maxRequestBody     largest request body in bytes (0: no limit; larger: 413)
   * @param abortOnClientClose a cleartext HTTP/1 client that closes its side (FIN) while its answer is
   *                           awaited or on its way has left: its request is abandoned (499), as nginx
   *                           does; false answers it, as HAProxy does (over TLS and HTTP/2 it has left,
   *                           whatever this says)
   */
  public record LimitSettings(
      int maxRequestLine, int maxHeaderBytes, int maxHeaderCount, Duration requestHeadTimeout,
      int maxConnections, int maxConnectionsPerClient, double clientRequestRate, int clientRequestBurst,
      int minRequestBodyRate, int http2ConnectionBuffer, long maxRequestBody, boolean abortOnClientClose) {

    /** The HTTP message limits alone, no connection, rate, body-rate or body-size limits, 1 MiB per HTTP/2 connection (tests). */
    public LimitSettings(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount, Duration requestHeadTimeout) {
      this(maxRequestLine, maxHeaderBytes, maxHeaderCount, requestHeadTimeout, Integer.MAX_VALUE, 0, 0, 0, 0,
          1 << 20, 0, false);
    }
  }

  /**
   * Timeouts: {@code meridian.timeouts}.
   *
   * @param connect         TCP connect to a backend
   * @param responseHeaders from the request being sent to the backend's response headers
   * @param responseDeadline from the request's arrival (the end of its body, if it has one) to its
   *                        response headers, every try together; zero for no such limit
   * @param clientIdle      a client connection with no request in flight
   * @param upstreamIdle    an upstream connection idle in the pool
   * @param tunnelIdle      a tunnel (a connection after a protocol switch) through which nothing
   *                        passed either way, unless its route says otherwise
   */
  public record TimeoutSettings(
      Duration connect, Duration responseHeaders, Duration responseDeadline, Duration clientIdle, Duration upstreamIdle, Duration tunnelIdle) {}

  /**
   * Upstream connections: {@code meridian.upstream}.
   *
   * @param maxIdlePerBackend idle connections kept per backend and event loop
   * @param connectAttempts   backends tried for one request when connecting fails, including the first
   * @param writeBufferLow    low write-buffer watermark in bytes (reads resume below it)
   * @param writeBufferHigh   high write-buffer watermark in bytes (reads pause above it)
   */
  public record UpstreamSettings(
      int maxIdlePerBackend, int connectAttempts, int writeBufferLow, int writeBufferHigh) {}

  /**
   * W3C trace context at this hop: {@code meridian.tracing}.
   *
   * @param enabled   pass {@code traceparent} on with a new span id, starting a trace when a request has none
   * @param sampleNew a trace Meridian starts carries the sampled flag
   */
  public record TracingSettings(boolean enabled, boolean sampleNew) {}
}
