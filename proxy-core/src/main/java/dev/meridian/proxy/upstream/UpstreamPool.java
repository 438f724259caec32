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
 * <p>Not thread-safe: every method runs on the pool's event loop.
 */
public final class UpstreamPool {
  private final EventLoop loop;
  private final UpstreamSettings settings;
  private final Map<Backend, ArrayDeque<Channel>> idle = new HashMap<>();
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
        .option(ChannelOption.SO_KEEPALIVE, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(settings.writeBufferLow(), settings.writeBufferHigh()));
    this.http2 = new Http2UpstreamConnections(loop, settings, bootstrap, everyConnection, links);
  }

  /** The event loop that owns this pool. */
  public EventLoop eventLoop() {
    return loop;
  }

  /**
   * Takes a connection to the backend for one request: an idle one if any is still open, else a new
   * one; for an HTTP/2 backend, a new stream on a shared connection. The returned channel's events go
   * to the listener.
   */
  public Future<Channel> acquire(Backend backend, UpstreamListener listener) {
    return acquire(backend, listener, false);
  }

  /**
   * Takes a connection to the backend; with {@code fresh}, always a new one (after a pooled
   * connection turned out closed, the others may be too).
   */
  public Future<Channel> acquire(Backend backend, UpstreamListener listener, boolean fresh) {
    BackendLink link = links.linkOf(backend);
    if (link.protocol().isHttp2()) {
      return http2.acquire(backend, link, listener);
    }
    Channel pooled = fresh ? null : takeIdle(backend, link, listener);
    return pooled != null ? loop.newSucceededFuture(pooled) : connect(backend, link, listener);
  }

  /**
   * An idle HTTP/1.1 connection to the backend from the pool, handed to the listener, or null when
   * none is (or the backend speaks HTTP/2): the caller then {@linkplain #acquire acquires} one. The
   * request path's common case, without a future to allocate.
   */
  public Channel takeIdle(Backend backend, UpstreamListener listener) {
    BackendLink link = links.linkOf(backend);
    return link.protocol().isHttp2() ? null : takeIdle(backend, link, listener);
  }

  private Channel takeIdle(Backend backend, BackendLink link, UpstreamListener listener) {
    ArrayDeque<Channel> waiting = idle.get(backend);
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

  private Future<Channel> connect(Backend backend, BackendLink link, UpstreamListener listener) {
    Promise<Channel> promise = loop.newPromise();
    BackendHandler handler = new BackendHandler(backend, link, ch -> forget(ch, backend), false);
    Bootstrap b = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
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
    long started = System.nanoTime();
    ChannelFuture connect = b.connect(new InetSocketAddress(backend.host(), backend.port()));
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
   * Gives back a connection whose request and response both completed; it waits for the next request
   * to the same backend, or is closed when the pool for that backend is full.
   */
  public void release(Channel channel) {
    BackendHandler handler = BackendHandler.of(channel);
    handler.detach();
    if (!channel.isActive() || closed || handler.link().protocol().isHttp2()) {
      // An HTTP/2 stream serves one request; its connection stays with the other streams.
      channel.close();
      return;
    }
    ArrayDeque<Channel> waiting = idle.computeIfAbsent(handler.backend(), b -> new ArrayDeque<>());
    if (waiting.size() >= settings.maxIdlePerBackend()) {
      channel.close();
      return;
    }
    waiting.addLast(channel);
    channel.config().setAutoRead(true);
  }

  /** Forgets a connection that closed (called by its handler). */
  void forget(Channel channel, Backend backend) {
    open--;
    ArrayDeque<Channel> waiting = idle.get(backend);
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

  /** Idle connections per backend id, for the admin API. */
  public Map<String, Integer> idleCounts() {
    Map<String, Integer> counts = new HashMap<>();
    idle.forEach((backend, channels) -> counts.put(backend.id(), channels.size()));
    return counts;
  }

  /** Closes every idle connection and refuses to keep connections from now on. */
  public void close() {
    closed = true;
    List<Channel> all = new ArrayList<>();
    idle.values().forEach(all::addAll);
    idle.clear();
    all.forEach(Channel::close);
    http2.close();
  }
}
