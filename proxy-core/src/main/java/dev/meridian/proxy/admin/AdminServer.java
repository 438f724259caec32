package dev.meridian.proxy.admin;

import dev.meridian.balancer.Backend;
import dev.meridian.proxy.upstream.UpstreamPool;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.BackendStats;
import dev.meridian.health.ActiveHealthChecker;
import dev.meridian.health.HealthRegistry;
import dev.meridian.proxy.http.LogText;
import dev.meridian.proxy.routing.Route;
import dev.meridian.proxy.server.ProxyServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The admin listener: Prometheus metrics at {@code /metrics}, JSON state under {@code /admin/api/}
 * ({@code routes}, {@code backends} with latency EWMA and in-flight, {@code regions} with dials, panic,
 * faults and per-region request, error and latency counters), the run-time controls of
 * {@link OperatorEndpoints} (dial, eject, restore, fault), and {@code /healthz} for the instance itself. Runs on its own
 * single event loop so a busy proxy cannot starve it, nor it the proxy.
 */
public final class AdminServer implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AdminServer.class);
  private final ProxyServer proxy;
  private final PrometheusMeterRegistry registry;
  private final OperatorEndpoints operations;
  private final AdminAuth auth;
  private volatile java.util.function.Supplier<dev.meridian.proxy.ConfigReloader.Outcome> reload;
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("meridian-admin"), NioIoHandler.newFactory());
  private final RegionHistory history = new RegionHistory();
  private final DashboardStream stream = new DashboardStream(group.next());
  private final DashboardAssets assets = DashboardAssets.load();
  private final AdminRequestGuard guard;
  private final AdminConnections connections;
  /** Refused calls are logged at most once a second per reason; the metrics-free count is in the line. */
  private final dev.meridian.proxy.server.FailureLogLimit refusalLog =
      new dev.meridian.proxy.server.FailureLogLimit(System::nanoTime, TimeUnit.SECONDS.toNanos(1));
  private Channel channel;
  private java.util.concurrent.ScheduledFuture<?> ticker;

  /** Creates the admin server for a proxy, open to anyone who reaches it; nothing is bound until {@link #start}. */
  public AdminServer(ProxyServer proxy, PrometheusMeterRegistry registry) {
    this(proxy, registry, java.util.Optional.empty());
  }

  /**
   * Creates the admin server for a proxy; with a token, every call but {@code /healthz} and the
   * dashboard's files must carry it. Nothing is bound until {@link #start}.
   */
  public AdminServer(ProxyServer proxy, PrometheusMeterRegistry registry, java.util.Optional<String> token) {
    this.proxy = proxy;
    this.registry = registry;
    this.operations = new OperatorEndpoints(proxy);
    this.auth = new AdminAuth(token);
    this.guard = new AdminRequestGuard(proxy.settings().admin().allowedHosts());
    this.connections = new AdminConnections(proxy.settings().timeouts().clientIdle());
  }

  /** Makes {@code POST /admin/api/reload} call this (the configuration file's reloader). */
  public void reloadWith(java.util.function.Supplier<dev.meridian.proxy.ConfigReloader.Outcome> reloader) {
    this.reload = reloader;
  }

  /** Binds the admin listener and returns its address. */
  public InetSocketAddress start(String host, int port) throws InterruptedException {
    try {
      bind(host, port);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new dev.meridian.proxy.server.ListenerUnavailableException("admin listener", host + ":" + port, e);
    }
    ticker = group.next().scheduleAtFixedRate(this::tick, 0, 1, TimeUnit.SECONDS);
    return (InetSocketAddress) channel.localAddress();
  }

  private void bind(String host, int port) throws InterruptedException {
    channel = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            if (!connections.admit(ch)) {
              return;
            }
            // After the aggregator the idle handler sees complete requests only: a trickled head is idle.
            ch.pipeline()
                .addLast(new HttpServerCodec())
                .addLast(new HttpObjectAggregator(64 * 1024))
                .addLast(connections.idleHandler())
                .addLast(new AdminHandler());
          }
        })
        .bind(host, port).sync().channel();
  }

  /**
   * Once a second on the admin loop: samples the regions' counters and, while a dashboard is open,
   * keeps recent decisions sampled and sends it the new snapshot.
   */
  private void tick() {
    try {
      history.sample(proxy, System.nanoTime());
      if (stream.isWatched()) {
        proxy.recentDecisions().watch(TimeUnit.SECONDS.toNanos(3));
        stream.publish(snapshotJson());
      }
    } catch (RuntimeException e) {
      log.warn("admin: dashboard tick failed: {}", e.toString());
    }
  }

  private String snapshotJson() {
    return snapshotJson(false);
  }

  private String snapshotJson(boolean withHistory) {
    return Json.write(DashboardSnapshot.build(proxy, history, System.currentTimeMillis(), withHistory));
  }

  @Override
  public void close() {
    if (ticker != null) {
      ticker.cancel(false);
    }
    stream.close();
    if (channel != null) {
      channel.close().awaitUninterruptibly();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  private final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      String refusal = guard.refusal(request, pathOf(request.uri()));
      if (refusal != null) {
        String more = refusalLog.admittedLine("refused", "admin");
        if (more != null) {
          log.warn("admin: {} {} from {} refused: {}{}", LogText.printable(request.method().name()),
              LogText.printable(pathOf(request.uri())), ctx.channel().remoteAddress(), LogText.printable(refusal), more);
        }
        write(ctx, request, text(ctx, HttpResponseStatus.FORBIDDEN, "refused: " + refusal + "\n"));
        return;
      }
      if (auth.required() && !AdminAuth.isOpen(pathOf(request.uri())) && !auth.admits(request.headers())) {
        String more = refusalLog.admittedLine("unauthorized", "admin");
        if (more != null) {
          log.warn("admin: {} {} from {} refused: missing or wrong token{}", LogText.printable(request.method().name()),
              LogText.printable(pathOf(request.uri())), ctx.channel().remoteAddress(), more);
        }
        FullHttpResponse refused = text(ctx, HttpResponseStatus.UNAUTHORIZED,
            "this admin API needs its token: Authorization: Bearer <token>\n");
        refused.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"meridian-admin\"");
        write(ctx, request, refused);
        return;
      }
      if (request.method().equals(HttpMethod.GET) && pathOf(request.uri()).equals("/admin/api/stream")
          && request.decoderResult().isSuccess()) {
        proxy.recentDecisions().watch(TimeUnit.SECONDS.toNanos(3));
        stream.open(ctx, snapshotJson(true));
        return;
      }
      FullHttpResponse response;
      try {
        response = answer(ctx, request);
      } catch (RuntimeException e) {
        log.warn("admin: {} {} failed: {}", request.method(), LogText.printable(request.uri()), e.toString());
        response = text(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e + "\n");
      }
      write(ctx, request, response);
    }

    /** Writes the answer; the connection stays open when the client keeps it alive. */
    private void write(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response) {
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      HttpUtil.setKeepAlive(response, keepAlive);
      if (keepAlive) {
        ctx.writeAndFlush(response);
      } else {
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      }
    }

    private String pathOf(String uri) {
      int end = uri.indexOf('?');
      return end < 0 ? uri : uri.substring(0, end);
    }

    /** The answer to one admin request. */
    private FullHttpResponse answer(ChannelHandlerContext ctx, FullHttpRequest request) {
      String path;
      try {
        path = new QueryStringDecoder(request.uri()).path();
        new QueryStringDecoder(request.uri()).parameters();
      } catch (IllegalArgumentException e) {
        path = null;
      }
      FullHttpResponse response;
      if (path == null) {
        response = text(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request target\n");
      } else if (!request.decoderResult().isSuccess()) {
        response = text(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request\n");
      } else if (path.equals("/admin/api/reload")) {
        response = reload(ctx, request.method());
      } else if (OperatorEndpoints.handles(request.method(), path)) {
        response = operate(ctx, request.method(), path, new QueryStringDecoder(request.uri()));
      } else if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
        response = text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
            "only GET is supported here; the controls are:\n" + OperatorEndpoints.USAGE);
      } else {
        switch (path) {
          case "/metrics" -> response = proxy.settings().admin().metrics()
              ? respond(ctx, "text/plain; version=0.0.4; charset=utf-8", registry.scrape())
              : text(ctx, HttpResponseStatus.NOT_FOUND, "metrics are off (meridian.admin.metrics = false)\n");
          case "/healthz" -> response = text(ctx, HttpResponseStatus.OK, "ok\n");
          case "/readyz" -> response = proxy.isDraining()
              ? text(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "draining\n")
              : text(ctx, HttpResponseStatus.OK, "ready\n");
          case "/admin/api/routes" -> response = respond(ctx, "application/json", Json.write(routes()));
          case "/admin/api/backends" -> response = respond(ctx, "application/json", Json.write(backends()));
          case "/admin/api/regions" -> response = respond(ctx, "application/json",
              Json.write(RegionsDocument.build(proxy, history)));
          case "/admin/api/cache" -> response = respond(ctx, "application/json", Json.write(cache()));
          case "/admin/api/dashboard" -> {
            // A poller of this JSON watches too: requests from now on are sampled for its next call.
            proxy.recentDecisions().watch(TimeUnit.SECONDS.toNanos(3));
            response = respond(ctx, "application/json", snapshotJson(true));
          }
          case "/admin/api/config" -> response = respond(ctx, "text/plain; charset=utf-8", configInForce());
          case "/admin", "/admin/" -> response = text(ctx, HttpResponseStatus.OK,
              "Meridian admin\n  /            the dashboard\n  /metrics\n  /healthz\n  /readyz      (503 once the drain started)\n  /admin/api/routes\n"
                  + "  /admin/api/backends\n  /admin/api/regions\n  /admin/api/cache\n  /admin/api/dashboard\n"
                  + "  /admin/api/stream   (Server-Sent Events, one snapshot a second)\n"
                  + "  /admin/api/config   (the configuration in force, secrets redacted)\n"
                  + "POST   /admin/api/reload   (reload the configuration file; answers its problems if refused)\n"
                  + OperatorEndpoints.USAGE);
          default -> {
            DashboardAssets.Asset asset = assets.get(path);
            if (asset != null) {
              response = asset.response(ctx.alloc());
            } else if (OperatorEndpoints.handles(HttpMethod.POST, path)) {
              response = text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
                  "the controls are called with POST (DELETE to clear a fault):\n" + OperatorEndpoints.USAGE);
              response.headers().set(HttpHeaderNames.ALLOW, "POST, DELETE");
            } else {
              response = text(ctx, HttpResponseStatus.NOT_FOUND, "no such admin endpoint: " + LogText.printable(path) + "\n");
            }
          }
        }
      }
      return response;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof io.netty.handler.timeout.IdleStateEvent) {
        ctx.close(); // no complete request and nothing written for AdminConnections.IDLE_SECONDS
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private List<Object> routes() {
    List<Object> out = new ArrayList<>();
    for (Route r : proxy.routes()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", r.name());
      m.put("host", r.host() == null ? "*" : r.host().toString());
      m.put("path-prefix", r.pathPrefix());
      m.put("methods", new ArrayList<>(r.methods()));
      m.put("backend-group", r.group().name());
      m.put("rewrite-host", r.rewriteHost());
      m.put("upgrades", r.upgradeList());
      out.add(m);
    }
    return out;
  }

  private Map<String, Object> backends() {
    Map<String, Integer> idle = new LinkedHashMap<>();
    Map<String, Integer> streams = new LinkedHashMap<>();
    for (UpstreamPool pool : proxy.pools().all()) {
      onPoolLoop(pool, pool::idleCounts).forEach((id, n) -> idle.merge(id, n, Integer::sum));
      onPoolLoop(pool, pool::streamCounts).forEach((id, n) -> streams.merge(id, n, Integer::sum));
    }
    Map<String, Object> groups = new LinkedHashMap<>();
    for (BackendGroup g : proxy.groups().values()) {
      HealthRegistry health = proxy.health(g.name());
      List<Object> list = new ArrayList<>();
      for (Backend b : g.backends()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", b.id());
        m.put("address", b.authority());
        m.put("region", b.region());
        m.put("zone", b.zone());
        m.put("weight", b.weight());
        m.put("available", health.isAvailable(b));
        m.put("out-reasons", health.reasons(b.id()));
        health.replicationLag(b.id()).ifPresent(lag -> m.put("replication-lag-ms", lag.toMillis()));
        ActiveHealthChecker checker = proxy.healthCheckers().get(g.name());
        if (checker != null) {
          checker.statuses().stream().filter(c -> c.backendId().equals(b.id())).findFirst().ifPresent(c ->
              m.put("active-check", Map.of("up", c.up(), "consecutive-passes", c.consecutivePasses(),
                  "consecutive-failures", c.consecutiveFailures(), "last-reason", String.valueOf(c.lastReason()))));
        }
        proxy.outlierDetectors().get(g.name()).statuses().stream().filter(o -> o.backendId().equals(b.id()))
            .findFirst().ifPresent(o -> m.put("ejected", o.ejected()));
        m.put("idle-connections", idle.getOrDefault(b.id(), 0));
        if (streams.containsKey(b.id())) {
          m.put("http2-streams", streams.get(b.id()));
        }
        BackendStats stats = proxy.stats().get(g.name()).of(b);
        m.put("in-flight", stats.inFlight());
        m.put("latency-ewma-ms", stats.hasSample() ? Math.round(stats.costNanos() / 1e4) / 100.0 : null);
        m.put("sticky", Map.of("pinned-requests", stats.pinnedRequests(), "new-pins", stats.newPins()));
        var slots = proxy.backendSlots().get(g.name());
        if (slots != null) {
          var slot = slots.of(b.id());
          m.put("limit", Map.of("max-connections", slots.maxPerBackend(), "busy", slot.busy(),
              "queued", slot.waiting()));
        }
        list.add(m);
      }
      groups.put(g.name(), list);
    }
    return groups;
  }

  /**
   * Reads a pool's counts on the pool's own event loop (its maps are not thread-safe); empty when
   * the loop does not answer within a second.
   */
  private static Map<String, Integer> onPoolLoop(UpstreamPool pool, java.util.concurrent.Callable<Map<String, Integer>> read) {
    if (pool.eventLoop().isShuttingDown()) {
      return Map.of();
    }
    try {
      return pool.eventLoop().inEventLoop() ? read.call() : pool.eventLoop().submit(read).get(1, TimeUnit.SECONDS);
    } catch (Exception e) {
      return Map.of();
    }
  }

  /** The edge cache: entries, bytes against the bound, evictions, and requests by result with the hit ratio. */
  private Map<String, Object> cache() {
    dev.meridian.proxy.cache.EdgeCache cache = proxy.cache();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("entries", cache.entryCount());
    out.put("bytes", cache.bytes());
    out.put("max-bytes", cache.maxBytes());
    out.put("max-object-bytes", cache.maxObjectSize());
    out.put("evictions", cache.evictions());
    Map<String, Long> results = new LinkedHashMap<>();
    for (String result : List.of("hit", "miss", "expired", "stale", "bypass")) {
      double n = registry.find("meridian.cache.requests").tag("result", result).counters().stream()
          .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
      results.put(result, (long) n);
    }
    out.put("requests", results);
    long lookups = results.get("hit") + results.get("miss") + results.get("expired") + results.get("stale");
    out.put("hit-ratio", lookups == 0 ? 0.0 : Math.round(1000.0 * (results.get("hit") + results.get("stale")) / lookups) / 1000.0);
    return out;
  }

  /** {@code POST /admin/api/reload}: 200 when the file is in force, 422 with its problems when refused. */
  /**
   * The configuration applied last, secrets redacted, headed by the restart-only keys it changed
   * that still have the values the process started with.
   */
  private String configInForce() {
    List<String> pending = proxy.awaitingRestart();
    String source = proxy.settings().source();
    return pending.isEmpty() ? source : "# Not in force until a restart (the values the process started with apply): "
        + String.join(", ", pending) + "\n" + source;
  }

  private FullHttpResponse reload(ChannelHandlerContext ctx, HttpMethod method) {
    if (!method.equals(HttpMethod.POST)) {
      FullHttpResponse refused = text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "reload is POST /admin/api/reload\n");
      refused.headers().set(HttpHeaderNames.ALLOW, "POST");
      return refused;
    }
    java.util.function.Supplier<dev.meridian.proxy.ConfigReloader.Outcome> reloader = reload;
    if (reloader == null) {
      return text(ctx, HttpResponseStatus.CONFLICT,
          "this instance was not started from a configuration file (meridian run -c FILE), so there is nothing to reload\n");
    }
    dev.meridian.proxy.ConfigReloader.Outcome outcome = reloader.get();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("applied", outcome.applied());
    body.put("problems", outcome.problems());
    FullHttpResponse response = respond(ctx, "application/json", Json.write(body));
    if (!outcome.applied()) {
      response.setStatus(HttpResponseStatus.UNPROCESSABLE_ENTITY);
    }
    return response;
  }

  /** Carries out one of the run-time controls (dial, eject, restore, fault, purge). */
  private FullHttpResponse operate(ChannelHandlerContext ctx, HttpMethod method, String path, QueryStringDecoder query) {
    OperatorEndpoints.Outcome outcome = operations.handle(method, path, query.parameters());
    if (outcome.status() == 200) {
      return respond(ctx, "application/json", Json.write(outcome.body()));
    }
    return text(ctx, HttpResponseStatus.valueOf(outcome.status()), outcome.body() + "\n");
  }

  private static FullHttpResponse text(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
    FullHttpResponse r = respond(ctx, "text/plain; charset=utf-8", body);
    r.setStatus(status);
    return r;
  }

  private static FullHttpResponse respond(ChannelHandlerContext ctx, String type, String body) {
    ByteBuf content = ByteBufUtil.writeUtf8(ctx.alloc(), body);
    FullHttpResponse r = new DefaultFullHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
        HttpResponseStatus.OK, content);
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, type).set(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes())
        .set(HttpHeaderNames.CACHE_CONTROL, "no-store").set(HttpHeaderNames.DATE, dev.meridian.proxy.http.HttpDate.now())
        .set("X-Content-Type-Options", "nosniff").set("X-Frame-Options", "DENY");
    return r;
  }
}
