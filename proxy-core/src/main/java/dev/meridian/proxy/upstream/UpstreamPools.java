package dev.meridian.proxy.upstream;

import io.netty.channel.EventLoop;
import java.util.Collection;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** The upstream pool of each event loop, created the first time a loop needs one. */
public final class UpstreamPools {
  private final UpstreamSettings settings;
  private final ConcurrentHashMap<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();
  private final ChannelGroup everyConnection =
      new DefaultChannelGroup("upstream", GlobalEventExecutor.INSTANCE);

  /** Creates pools that open connections as the settings say. */
  public UpstreamPools(UpstreamSettings settings) {
    this.settings = settings;
  }

  /** The pool owned by this event loop. */
  public UpstreamPool forLoop(EventLoop loop) {
    UpstreamPool pool = pools.get(loop);
    return pool != null ? pool : pools.computeIfAbsent(loop, l -> new UpstreamPool(l, settings, everyConnection));
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
