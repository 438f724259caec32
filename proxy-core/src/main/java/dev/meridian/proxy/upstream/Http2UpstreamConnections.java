package dev.meridian.proxy.upstream;

import dev.meridian.balancer.Backend;
import dev.meridian.proxy.upstream.Http2UpstreamConnection.StreamRequest;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/2 connections of one event loop to its backends. A request gets a stream on a connection
 * with room for one more (the backend's SETTINGS_MAX_CONCURRENT_STREAMS); when every connection is
 * full, it waits for one being opened, a new connection opens when none is (up to
 * {@link #MAX_CONNECTIONS_PER_BACKEND}), and beyond that it waits for a stream to end.
 *
 * <p>Not thread-safe: every method runs on the loop.
 */
final class Http2UpstreamConnections {
  /** Connections per backend and event loop; when all are full, requests wait for a stream. */
  static final int MAX_CONNECTIONS_PER_BACKEND = 4;

  private final EventLoop loop;
  private UpstreamSettings settings;
  private final Bootstrap bootstrap;
  private final ChannelGroup everyConnection;
  private final UpstreamPools links;
  private final Map<Backend, List<Http2UpstreamConnection>> byBackend = new HashMap<>();
  private int open;
  private boolean closed;

  Http2UpstreamConnections(EventLoop loop, UpstreamSettings settings, Bootstrap bootstrap,
      ChannelGroup everyConnection, UpstreamPools links) {
    this.loop = loop;
    this.settings = settings;
    this.bootstrap = bootstrap;
    this.everyConnection = everyConnection;
    this.links = links;
  }

  /**
   * A new stream to the backend, whose events go to the listener. A request that gets no stream within
   * the connect timeout (every connection full, or none ready) fails with a
   * {@link StreamUnavailableException}, so it is retried elsewhere or answered, never left waiting.
   */
  Future<Channel> acquire(Backend backend, BackendLink link, UpstreamListener listener) {
    Promise<Channel> promise = loop.newPromise();
    place(backend, link, new StreamRequest(listener, promise));
    if (!promise.isDone()) {
      long timeout = settings.connectTimeout().toNanos();
      ScheduledFuture<?> deadline = loop.schedule(() -> {
        long millis = settings.connectTimeout().toMillis();
        // Busy (every connection full) is not the backend failing; no connection ready at all (TCP
        // accepted, no SETTINGS: a hung or wrong-protocol backend) is, like a connect timeout, so
        // passive health counts it and ejects a backend that never answers.
        promise.tryFailure(hasReadyConnection(backend, link)
            ? new StreamUnavailableException("no HTTP/2 stream to " + backend + " came free within " + millis + " ms")
            : new ConnectTimeoutException("no HTTP/2 connection to " + backend + " ready (its SETTINGS) within "
                + millis + " ms"));
      }, timeout, TimeUnit.NANOSECONDS);
      promise.addListener(f -> deadline.cancel(false));
    }
    return promise;
  }

  private boolean hasReadyConnection(Backend backend, BackendLink link) {
    for (Http2UpstreamConnection c : byBackend.getOrDefault(backend, List.of())) {
      if (c.link().equals(link) && c.isReady()) {
        return true;
      }
    }
    return false;
  }

  /** Gives the request a stream on a connection with room, or a place on one being opened. */
  void place(Backend backend, BackendLink link, StreamRequest request) {
    if (request.promise().isDone()) {
      return; // its wait timed out
    }
    List<Http2UpstreamConnection> connections = byBackend.computeIfAbsent(backend, b -> new ArrayList<>(2));
    Http2UpstreamConnection opening = null;
    Http2UpstreamConnection leastQueued = null;
    int current = 0;
    for (Http2UpstreamConnection c : connections) {
      if (!c.link().equals(link)) {
        continue;
      }
      current++;
      if (c.hasRoom()) {
        c.openStream(request);
        return;
      }
      if (opening == null && c.isConnecting() && c.waiting() < Http2UpstreamConnection.ASSUMED_MAX_STREAMS) {
        opening = c;
      }
      if (c.isReady() && (leastQueued == null || c.waiting() < leastQueued.waiting())) {
        leastQueued = c;
      }
    }
    if (opening == null && leastQueued != null && current >= MAX_CONNECTIONS_PER_BACKEND) {
      // Every connection is full and there are enough of them: wait for a stream to end.
      leastQueued.await(request);
      return;
    }
    if (opening == null) {
      if (closed) {
        request.promise().tryFailure(new ClosedChannelException());
        return;
      }
      UpstreamSettings now = links.settings();
      if (now != settings) { // a reload changed them: connections opened from now on take them
        settings = now;
        UpstreamPool.configure(bootstrap, now);
      }
      opening = new Http2UpstreamConnection(backend, link, this, settings);
      connections.add(opening);
      opening.connect(bootstrap);
    }
    opening.await(request);
  }

  /** Counts a connection to the backend that connected (TCP) this long after it started. */
  void opened(Channel channel, Backend backend, long connectNanos) {
    links.connectTimes().connected(backend, connectNanos);
    open++;
    everyConnection.add(channel);
    channel.closeFuture().addListener(f -> open--);
  }

  /** Takes a connection out of rotation (going away, closed or failed). */
  void forget(Http2UpstreamConnection connection) {
    List<Http2UpstreamConnection> connections = byBackend.get(connection.backend());
    if (connections != null && connections.remove(connection) && connections.isEmpty()) {
      byBackend.remove(connection.backend());
    }
  }

  /** Drains the connections to backends no longer configured: no new streams, closed once their streams end. */
  void retire(java.util.Set<Backend> backends) {
    List<Http2UpstreamConnection> all = new ArrayList<>();
    backends.forEach(b -> all.addAll(byBackend.getOrDefault(b, List.of())));
    all.forEach(Http2UpstreamConnection::retire);
  }

  /** Open HTTP/2 connections, with or without streams. */
  int openConnections() {
    return open;
  }

  /** Streams open per backend id, for the admin API. */
  Map<String, Integer> streamCounts() {
    Map<String, Integer> counts = new HashMap<>();
    byBackend.forEach((backend, connections) -> counts.put(backend.id(),
        connections.stream().mapToInt(Http2UpstreamConnection::streams).sum()));
    return counts;
  }

  /** Stops opening connections and closes the ones without streams; busy ones close as they empty. */
  void close() {
    closed = true;
    List<Http2UpstreamConnection> all = new ArrayList<>();
    byBackend.values().forEach(all::addAll);
    for (Http2UpstreamConnection c : all) {
      if (c.channel() != null && c.streams() == 0) {
        c.channel().close();
      }
    }
  }
}
