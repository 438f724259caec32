package dev.meridian.proxy.server;

import dev.meridian.proxy.metrics.ListenerMeters;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds a listener to its connection limits, on its server channel ahead of the acceptor:
 * <ul>
 *   <li>at {@code max} connections it stops accepting: new connections wait in the kernel's accept
 *       queue, not reset, and accepting resumes as soon as one closes. Connections the last accept
 *       batch took beyond the limit wait here, unregistered, for their turn;</li>
 *   <li>an address already holding {@code maxPerClient} connections has its next one closed at once.</li>
 * </ul>
 *
 * <p>Accepting runs on the listener's accept loop; connections close on any event loop, so the counts
 * are atomic and resuming is handed to the accept loop.
 */
final class ListenerGate extends ChannelInboundHandlerAdapter {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ListenerGate.class);

  private final String listener;
  private final int max;
  private final int maxPerClient;
  private final ListenerMeters meters;
  private final AtomicInteger open = new AtomicInteger();
  /** Open connections by client address, with no entry at zero (atomic per address). */
  private final ConcurrentHashMap<InetAddress, Integer> perClient;
  /** Accepted beyond the limit, waiting to be passed on (accept loop only). */
  private final ArrayDeque<Channel> waiting = new ArrayDeque<>();
  private ChannelHandlerContext server;
  /** Written on the accept loop; read on close by any loop, so that only a paused listener is woken. */
  private volatile boolean paused;

  ListenerGate(String listener, int max, int maxPerClient, ListenerMeters meters) {
    this.listener = listener;
    this.max = max;
    this.maxPerClient = maxPerClient;
    this.meters = meters;
    this.perClient = maxPerClient > 0 ? new ConcurrentHashMap<>() : null;
    meters.openConnections(open::get);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    server = ctx;
  }

  /** Client connections open now. */
  int open() {
    return open.get();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Channel child = (Channel) msg;
    InetAddress address = addressOf(child);
    if (perClient != null && address != null && !admitClient(address)) {
      meters.refusedPerClient();
      log.debug("listener '{}': {} already holds {} connections; closed", listener, address, maxPerClient);
      child.unsafe().closeForcibly();
      return;
    }
    if (open.get() >= max) {
      waiting.add(child);
      pause(ctx);
      return;
    }
    pass(ctx, child, address);
  }

  private void pass(ChannelHandlerContext ctx, Channel child, InetAddress address) {
    if (open.incrementAndGet() >= max) {
      pause(ctx);
    }
    child.closeFuture().addListener(closed -> released(address));
    ctx.fireChannelRead(child);
  }

  private boolean admitClient(InetAddress address) {
    if (perClient.merge(address, 1, Integer::sum) > maxPerClient) {
      releaseClient(address);
      return false;
    }
    return true;
  }

  private void releaseClient(InetAddress address) {
    perClient.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
  }

  private void released(InetAddress address) {
    if (perClient != null && address != null) {
      releaseClient(address);
    }
    if (open.decrementAndGet() < max && paused) {
      ChannelHandlerContext ctx = server;
      if (ctx.executor().inEventLoop()) {
        resume(ctx);
      } else {
        ctx.executor().execute(() -> resume(ctx));
      }
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // The listener closed: connections still waiting for a turn are closed with it.
    while (!waiting.isEmpty()) {
      waiting.poll().unsafe().closeForcibly();
    }
    ctx.fireChannelInactive();
  }

  private void pause(ChannelHandlerContext ctx) {
    if (!paused) {
      paused = true;
      meters.acceptPaused();
      log.warn("listener '{}': {} client connections, its limit (limits.max-connections): accepting paused",
          listener, max);
      ctx.channel().config().setAutoRead(false);
      if (open.get() < max) {
        resume(ctx); // a connection closed before it could see the pause
      }
    }
  }

  private void resume(ChannelHandlerContext ctx) {
    while (!waiting.isEmpty() && open.get() < max) {
      Channel child = waiting.poll();
      pass(ctx, child, addressOf(child));
    }
    if (paused && open.get() < max) {
      paused = false;
      log.info("listener '{}': below {} client connections: accepting again", listener, max);
      ctx.channel().config().setAutoRead(true);
    }
  }

  private static InetAddress addressOf(Channel child) {
    return child.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
  }
}
