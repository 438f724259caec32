package dev.meridian.proxy.upstream;

import dev.meridian.balancer.Backend;
import dev.meridian.proxy.http1.UpstreamHttpCodec;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import dev.meridian.proxy.transport.IdleTimeoutHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connections to backends, owned by one event loop: a request on that loop takes an idle
 * connection to its backend or opens a new one on the same loop, so forwarding needs no thread hop
 * and no lock.
 *
 * <p>A connection the backend closed is never handed out: an idle connection reads (and so notices a
 * close) while it waits, and is checked again when taken. Idle connections close after the
 * configured idle time; at most {@code maxIdlePerBackend} wait per backend.
 *
 * <p>A connection to a group that sends the PROXY protocol ({@link BackendLink#proxyProtocol()}) told
 * its backend, once and for all, which client it is for. It is therefore reserved for the client
 * connection it was opened for: kept idle apart from the shared connections, handed only to that
 * client connection's next requests (its keep-alive requests, or the other streams of its HTTP/2
 * connection), and closed when that client connection closes. Without a client (none given), such a
 * connection serves one request and is closed.
 *
 * <p>Not thread-safe: every method runs on the pool's event loop.
 */
public final class UpstreamPool {
  private final EventLoop loop;
  private UpstreamSettings settings;
  private final Map<Backend, ArrayDeque<Channel>> idle = new HashMap<>();
  /** Idle connections that carry a client's PROXY header, by that client's connection. */
  private final Map<Channel, Map<Backend, ArrayDeque<Channel>>> reserved = new HashMap<>();
  private final Bootstrap bootstrap;
  private final ChannelGroup everyConnection;
  private final UpstreamPools links;
  private final Http2UpstreamConnections http2;
  private int open;
  private boolean closed;

  UpstreamPool(EventLoop loop, UpstreamSettings settings, ChannelGroup everyConnection, UpstreamPools links) {
    this.loop = loop;
    this.links = links;
    this.everyConnection = everyConnection;
    this.settings = settings;
    this.bootstrap = new Bootstrap()
        .group(loop)
        .channel(settings.transport().socketChannel())
        // Left reading while in use and while idle: see server.ReadDemand.
        .option(ChannelOption.AUTO_READ, true)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true);
    configure(bootstrap, settings);
    this.http2 = new Http2UpstreamConnections(loop, settings, bootstrap, everyConnection, links);
  }

  /** Sets the options of the connections {@code bootstrap} opens that come from the settings. */
  static void configure(Bootstrap bootstrap, UpstreamSettings settings) {
    bootstrap.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(settings.writeBufferLow(), settings.writeBufferHigh()));
  }

  /**
   * Takes the pools' settings if a reload changed them, before a new connection is opened (one
   * volatile read per new connection, none per pooled request); connections open keep theirs.
   */
  private void refreshSettings() {
    UpstreamSettings now = links.settings();
    if (now != settings) {
      settings = now;
      configure(bootstrap, now);
    }
  }

  /** The event loop that owns this pool. */
  public EventLoop eventLoop() {
    return loop;
  }

  /**
   * Takes a connection to the backend for one request: an idle one if any is still open, else a new
   * one; for an HTTP/2 backend, a new stream on a shared connection. The returned channel's events go
   * to the listener.
   *
   * @param client the client connection the request came on: a group that sends the PROXY protocol
   *               names it in the header and reserves the connection for it; may be null (then such a
   *               connection says {@code UNKNOWN}/{@code LOCAL} and serves this request only)
   */
  public Future<Channel> acquire(Backend backend, BackendLink link, UpstreamListener listener,
      ClientConnection client) {
    return acquire(backend, link, listener, client, false);
  }

  /**
   * Takes a connection to the backend; with {@code fresh}, always a new one (after a pooled
   * connection turned out closed, the others may be too).
   *
   * @param link how the backend is spoken to: its group's, in the routing the request was admitted
   *             under (a backend a reload removed is still spoken to as it was, never in cleartext
   *             for want of a link)
   */
  public Future<Channel> acquire(Backend backend, BackendLink link, UpstreamListener listener,
      ClientConnection client, boolean fresh) {
    if (link.protocol().isHttp2()) {
      return http2.acquire(backend, link, listener);
    }
    Channel pooled = fresh ? null : takeIdle(idleOf(backend, link, client), link, listener);
    return pooled != null ? loop.newSucceededFuture(pooled) : connect(backend, link, listener, client);
  }

  /**
   * An idle HTTP/1.1 connection to the backend from the pool (for a group that sends the PROXY
   * protocol, one reserved for {@code client}), handed to the listener, or null when none is (or the
   * backend speaks HTTP/2): the caller then {@linkplain #acquire acquires} one. The request path's
   * common case, without a future to allocate.
   */
  public Channel takeIdle(Backend backend, BackendLink link, UpstreamListener listener, ClientConnection client) {
    return link.protocol().isHttp2() ? null : takeIdle(idleOf(backend, link, client), link, listener);
  }

  /** The idle connections a request of {@code client} may take, or null when there are none. */
  private ArrayDeque<Channel> idleOf(Backend backend, BackendLink link, ClientConnection client) {
    if (!link.carriesClient()) {
      return idle.get(backend);
    }
    Map<Backend, ArrayDeque<Channel>> own = client == null ? null : reserved.get(client.connection());
    return own == null ? null : own.get(backend);
  }

  private static Channel takeIdle(ArrayDeque<Channel> waiting, BackendLink link, UpstreamListener listener) {
    if (waiting == null) {
      return null;
    }
    Channel channel;
    while ((channel = waiting.pollLast()) != null) {
      BackendHandler handler = BackendHandler.of(channel);
      if (channel.isActive() && handler.link().equals(link)) {
        handler.attach(listener);
        return channel;
      }
      channel.close();
    }
    return null;
  }

  private Future<Channel> connect(Backend backend, BackendLink link, UpstreamListener listener,
      ClientConnection client) {
    refreshSettings();
    Promise<Channel> promise = loop.newPromise();
    Channel owner = link.carriesClient() && client != null ? client.connection() : null;
    BackendHandler handler = new BackendHandler(backend, link, owner, ch -> forget(ch, backend, owner), false);
    Bootstrap b = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (link.carriesClient()) {
          ProxyHeaderWriter.install(ch.pipeline(), link.proxyProtocol(), client);
        }
        UpstreamTls tls = link.tls();
        if (tls != null) {
          ch.pipeline().addLast("tls", tls.newHandler(ch, backend.host(), backend.port()));
        }
        ch.pipeline()
            .addLast("codec", new UpstreamHttpCodec(settings.maxResponseLine(), settings.maxResponseHeaderBytes()))
            .addLast("idle", new IdleTimeoutHandler(settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS))
            .addLast(BackendHandler.NAME, handler);
      }
    });
    UpstreamConnectionBudget budget = links.budget();
    if (!budget.take() && !(closeOldestIdle() && budget.take())) {
      promise.setFailure(new UpstreamConnectionBudget.Exhausted(budget.max()));
      return promise;
    }
    long started = System.nanoTime();
    ChannelFuture connect = b.connect(new InetSocketAddress(backend.host(), backend.port()));
    // Given back once: when the connection closes, or when its socket could not even be made (a
    // channel that never registered never completes its close future).
    java.util.concurrent.atomic.AtomicBoolean placeHeld = new java.util.concurrent.atomic.AtomicBoolean(true);
    Runnable giveBack = () -> {
      if (placeHeld.compareAndSet(true, false)) {
        budget.give();
      }
    };
    connect.channel().closeFuture().addListener(closed -> giveBack.run());
    connect.addListener(f -> {
      if (!f.isSuccess() && !connect.channel().isRegistered()) {
        giveBack.run();
      }
    });
    connect.addListener(f -> {
      if (f.isSuccess()) {
        links.connectTimes().connected(backend, System.nanoTime() - started);
        open++;
        everyConnection.add(connect.channel());
        handler.attach(listener);
        promise.setSuccess(connect.channel());
      } else {
        promise.setFailure(f.cause());
      }
    });
    return promise;
  }

  /**
   * Closes this loop's longest-idle pooled connection (to any backend), so that a new connection
   * finds a place in the process's budget: idle connections to one backend must not keep every other
   * backend from a connection. Returns whether one was closed (its place is given back at once).
   */
  private boolean closeOldestIdle() {
    for (ArrayDeque<Channel> waiting : idle.values()) {
      Channel oldest = waiting.pollFirst();
      if (oldest != null) {
        oldest.close();
        return true;
      }
    }
    return false;
  }

  /**
   * Gives back a connection whose request and response both completed; it waits for the next request
   * to the same backend (for a connection reserved for a client connection, the next request of that
   * client connection), or is closed when the pool for that backend is full.
   */
  public void release(Channel channel) {
    BackendHandler handler = BackendHandler.of(channel);
    if (handler == null) {
      channel.close(); // closed already (its handler let go of the channel): nothing to pool
      return;
    }
    handler.detach();
    if (!channel.isActive() || closed || handler.link().protocol().isHttp2() || links.isRetired(handler.backend())) {
      // An HTTP/2 stream serves one request; its connection stays with the other streams.
      channel.close();
      return;
    }
    ArrayDeque<Channel> waiting = handler.link().carriesClient()
        ? reservedFor(handler.owner(), handler.backend())
        : idle.computeIfAbsent(handler.backend(), b -> new ArrayDeque<>());
    if (waiting == null || waiting.size() >= settings.maxIdlePerBackend()) {
      channel.close();
      return;
    }
    waiting.addLast(channel);
    channel.config().setAutoRead(true);
  }

  /**
   * Where a connection reserved for {@code owner} waits, or null when it cannot wait: no owner, or
   * one already closed. The first connection kept for an owner arranges for all of the owner's to
   * close when the owner does (the owner runs on this pool's event loop).
   */
  private ArrayDeque<Channel> reservedFor(Channel owner, Backend backend) {
    if (owner == null || !owner.isActive()) {
      return null;
    }
    Map<Backend, ArrayDeque<Channel>> own = reserved.get(owner);
    if (own == null) {
      own = new HashMap<>();
      reserved.put(owner, own);
      owner.closeFuture().addListener(f -> closeReserved(owner));
    }
    return own.computeIfAbsent(backend, b -> new ArrayDeque<>());
  }

  /** Closes the idle connections reserved for a client connection that closed. */
  private void closeReserved(Channel owner) {
    Map<Backend, ArrayDeque<Channel>> own = reserved.remove(owner);
    if (own != null) {
      List<Channel> all = new ArrayList<>();
      own.values().forEach(all::addAll);
      all.forEach(Channel::close);
    }
  }

  /** Forgets a connection that closed (called by its handler). */
  void forget(Channel channel, Backend backend, Channel owner) {
    open--;
    Map<Backend, ArrayDeque<Channel>> pool = owner == null ? idle : reserved.get(owner);
    ArrayDeque<Channel> waiting = pool == null ? null : pool.get(backend);
    if (waiting != null) {
      waiting.remove(channel);
    }
  }

  /** Open upstream connections of this pool, in use or idle, HTTP/1.1 and HTTP/2. */
  public int openConnections() {
    return open + http2.openConnections();
  }

  /** Open HTTP/2 streams per backend id, for the admin API. */
  public Map<String, Integer> streamCounts() {
    return http2.streamCounts();
  }

  /** Idle connections per backend id (shared and reserved for a client connection), for the admin API. */
  public Map<String, Integer> idleCounts() {
    Map<String, Integer> counts = new HashMap<>();
    idle.forEach((backend, channels) -> counts.put(backend.id(), channels.size()));
    reserved.values().forEach(own -> own.forEach((backend, channels) ->
        counts.merge(backend.id(), channels.size(), Integer::sum)));
    return counts;
  }

  /**
   * Closes the idle HTTP/1.1 connections (shared and reserved) to these backends, which are no longer
   * configured, and drains their HTTP/2 connections.
   */
  void closeIdle(java.util.Set<Backend> backends) {
    List<Channel> all = new ArrayList<>();
    backends.forEach(b -> {
      ArrayDeque<Channel> waiting = idle.remove(b);
      if (waiting != null) {
        all.addAll(waiting);
      }
    });
    reserved.values().forEach(own -> backends.forEach(b -> {
      ArrayDeque<Channel> waiting = own.remove(b);
      if (waiting != null) {
        all.addAll(waiting);
      }
    }));
    all.forEach(Channel::close);
    http2.retire(backends);
  }

  /** Closes every idle connection and refuses to keep connections from now on. */
  public void close() {
    closed = true;
    List<Channel> all = new ArrayList<>();
    idle.values().forEach(all::addAll);
    idle.clear();
    reserved.values().forEach(own -> own.values().forEach(all::addAll));
    reserved.clear();
    all.forEach(Channel::close);
    http2.close();
  }
}
