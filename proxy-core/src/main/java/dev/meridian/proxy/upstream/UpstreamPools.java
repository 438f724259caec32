package dev.meridian.proxy.upstream;

import dev.meridian.balancer.Backend;
import io.netty.channel.EventLoop;
import java.util.Collection;
import java.util.Map;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** The upstream pool of each event loop, created the first time a loop needs one. */
public final class UpstreamPools {
  /** The settings new pools start with; a reload may replace them. */
  private volatile UpstreamSettings settings;
  private final ConcurrentHashMap<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();
  private final ChannelGroup everyConnection =
      new DefaultChannelGroup("upstream", GlobalEventExecutor.INSTANCE);
  private volatile Map<Backend, BackendLink> links = Map.of();
  /**
   * The most retired backends remembered: discovery that replaces backends all day (pods, DNS) would
   * otherwise grow the set for ever. One forgotten early has its connections still in use pooled when
   * they finish, to close after the upstream idle timeout like any idle connection.
   */
  static final int MAX_RETIRED = 4096;
  /** Backends a links update removed (and none re-added since): their connections close once idle. */
  private final java.util.Set<Backend> retired = ConcurrentHashMap.newKeySet();
  private final UpstreamConnectionBudget budget = UpstreamConnectionBudget.fromDescriptorLimit();
  private volatile ConnectTimes connectTimes = (backend, nanos) -> { };

  /** Told how long each new connection to a backend (HTTP/1.1 or HTTP/2) took to connect (TCP, before any TLS). */
  @FunctionalInterface
  public interface ConnectTimes {
    void connected(Backend backend, long nanos);
  }

  /** Creates pools that open connections as the settings say. */
  public UpstreamPools(UpstreamSettings settings) {
    this.settings = settings;
  }

  /** The process-wide bound on backend connections every loop's pool takes from. */
  public UpstreamConnectionBudget budget() {
    return budget;
  }

  /** The pool owned by this event loop. */
  public UpstreamPool forLoop(EventLoop loop) {
    UpstreamPool pool = pools.get(loop);
    return pool != null ? pool : pools.computeIfAbsent(loop, l -> new UpstreamPool(l, settings, everyConnection, this));
  }

  /**
   * Opens connections from now on as {@code next} says (connect timeout, idle timeout, idle
   * connections kept, write watermarks): each pool takes them when it next opens a connection.
   * Connections open keep what they were opened with. The transport stays the one pools started with.
   */
  public void settings(UpstreamSettings next) {
    this.settings = next;
  }

  /** The settings connections are opened with now. */
  UpstreamSettings settings() {
    return settings;
  }

  /**
   * Sets how each backend is spoken to (protocol and TLS), as the routing in force says (a request
   * names its group's link when it asks for a connection). Connections opened under an earlier setting are not reused for new requests. A backend
   * the previous setting named and this one does not is retired: its idle connections close now, and
   * those still carrying a request close when it ends (so its requests drain).
   */
  public void links(Map<Backend, BackendLink> next) {
    Map<Backend, BackendLink> previous = this.links;
    this.links = Map.copyOf(next);
    retired.removeAll(next.keySet());
    java.util.Set<Backend> gone = new java.util.HashSet<>(previous.keySet());
    gone.removeAll(next.keySet());
    if (gone.isEmpty()) {
      return;
    }
    retired.addAll(gone);
    if (retired.size() > MAX_RETIRED) {
      // The oldest are not known (the set is unordered): forget any, but not the ones just retired.
      java.util.Iterator<Backend> each = retired.iterator();
      while (retired.size() > MAX_RETIRED / 2 && each.hasNext()) {
        if (!gone.contains(each.next())) {
          each.remove();
        }
      }
    }
    pools.values().forEach(p -> {
      if (!p.eventLoop().isShuttingDown()) {
        p.eventLoop().execute(() -> p.closeIdle(gone));
      }
    });
  }

  /** Whether the backend was removed by the last links update: its connections are not kept. */
  boolean isRetired(Backend backend) {
    return !retired.isEmpty() && retired.contains(backend);
  }

  /** How many retired backends are remembered. */
  int retiredCount() {
    return retired.size();
  }

  /** Reports each new connection's connect time to {@code observer} (the metrics). */
  public void reportConnectTimes(ConnectTimes observer) {
    this.connectTimes = observer;
  }

  ConnectTimes connectTimes() {
    return connectTimes;
  }

  /** How each backend is spoken to now. */
  public Map<Backend, BackendLink> links() {
    return links;
  }

  /** Every pool created so far. */
  public Collection<UpstreamPool> all() {
    return pools.values();
  }

  /**
   * Closes every upstream connection, idle or still in use, and waits (briefly) until they are
   * closed, so the event loops can stop with no channel registered.
   */
  public void closeAll() {
    pools.values().forEach(p -> {
      if (!p.eventLoop().isShuttingDown()) {
        p.eventLoop().submit(p::close).awaitUninterruptibly(2, TimeUnit.SECONDS);
      }
    });
    everyConnection.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
  }
}
