package dev.meridian.proxy.upstream;

import io.netty.channel.EventLoop;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;

/** The upstream pool of each event loop, created the first time a loop needs one. */
public final class UpstreamPools {
  private final UpstreamSettings settings;
  private final ConcurrentHashMap<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();

  /** Creates pools that open connections as the settings say. */
  public UpstreamPools(UpstreamSettings settings) {
    this.settings = settings;
  }

  /** The pool owned by this event loop. */
  public UpstreamPool forLoop(EventLoop loop) {
    UpstreamPool pool = pools.get(loop);
    return pool != null ? pool : pools.computeIfAbsent(loop, l -> new UpstreamPool(l, settings));
  }

  /** Every pool created so far. */
  public Collection<UpstreamPool> all() {
    return pools.values();
  }

  /** Closes the idle connections of every pool, each on its own loop. */
  public void closeAll() {
    pools.values().forEach(p -> p.eventLoop().execute(p::close));
  }
}
