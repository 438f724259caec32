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
  /** The limits; a reload may change them (volatile: connections close on any event loop). */
  private volatile int max;
  private volatile int maxPerClient;
  private final ListenerMeters meters;
  private final AtomicInteger open = new AtomicInteger();
  /**
   * Open connections by client address, with no entry at zero (atomic per address); only connections
   * accepted while a per-client limit was set are counted.
   */
  private final ConcurrentHashMap<InetAddress, Integer> perClient = new ConcurrentHashMap<>();
  /** Accepted beyond the limit, waiting to be passed on (accept loop only). */
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  private ChannelHandlerContext server;

  /** A connection accepted beyond the limit, and its client's address when it was counted per client. */
  private record Waiting(Channel child, InetAddress counted) {}
  /** How long accepting stops after an accept failed, and how often such a failure is logged. */
  private static final long ACCEPT_FAILURE_PAUSE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
  /** Accept failures since the last one logged (accept loop only). */
  private long acceptFailures;
  private long acceptFailureLoggedNanos;
  /** Written on the accept loop; read on close by any loop, so that only a paused listener is woken. */
  private volatile boolean paused;
  /** When the last "accepting paused" line was written, pauses since not written, whether this one was. */
  private long pauseLoggedNanos;
  private long pausesNotLogged;
  private boolean pauseLogged;

  ListenerGate(String listener, int max, int maxPerClient, ListenerMeters meters) {
    this.listener = listener;
    this.max = max;
    this.maxPerClient = maxPerClient;
    this.meters = meters;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    server = ctx;
  }

  /**
   * Holds connections accepted from now on to new limits (a reload). Connections open stay; when
   * more than {@code max} are, accepting pauses until enough close.
   */
  void limits(int max, int maxPerClient) {
    this.max = max;
    this.maxPerClient = maxPerClient;
    ChannelHandlerContext ctx = server;
    if (ctx != null) {
      ctx.executor().execute(() -> {
        if (open.get() >= this.max) {
          pause(ctx);
        } else if (paused) {
          resume(ctx);
        }
      });
    }
  }

  /**
   * Reports this listener's open connections, once it is in force (a listener a reload binds in place
   * of one of the same name reports after the old one stopped).
   */
  void openMeters() {
    meters.openConnections(open::get);
  }

  /**
   * Reports when the first of the listener's certificates expires, read from {@code expiry}, and its
   * certificate reloads applied and refused.
   */
  void certificateMeters(java.util.function.DoubleSupplier expiry, java.util.function.LongSupplier applied,
      java.util.function.LongSupplier refused) {
    meters.certificateExpiry(expiry);
    meters.certificateReloads(applied, refused);
  }

  /** Stops reporting when the listener's first certificate expires (a reload made it cleartext). */
  void closeCertificateMeters() {
    meters.closeCertificateExpiry();
  }

  /** Stops reporting this listener's gauges, open connections and certificate expiry (it was closed by a reload). */
  void closeMeters() {
    meters.closeGauges();
  }

  /** Client connections open now. */
  int open() {
    return open.get();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Channel child = (Channel) msg;
    int maxPerClient = this.maxPerClient;
    InetAddress address = maxPerClient > 0 ? addressOf(child) : null;
    if (address != null && !admitClient(address, maxPerClient)) {
      meters.refusedPerClient();
      log.debug("listener '{}': {} already holds {} connections; closed", listener, address, maxPerClient);
      child.unsafe().closeForcibly();
      return;
    }
    if (open.get() >= max) {
      waiting.add(new Waiting(child, address));
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

  private boolean admitClient(InetAddress address, int maxPerClient) {
    if (perClient.merge(address, 1, Integer::sum) > maxPerClient) {
      releaseClient(address);
      return false;
    }
    return true;
  }

  private void releaseClient(InetAddress address) {
    perClient.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
  }

  /** A connection closed; {@code address} is its client's when it was counted per client, else null. */
  private void released(InetAddress address) {
    if (address != null) {
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
      Waiting next = waiting.poll();
      if (next.counted() != null) {
        releaseClient(next.counted());
      }
      next.child().unsafe().closeForcibly();
    }
    ctx.fireChannelInactive();
  }

  private void pause(ChannelHandlerContext ctx) {
    if (!paused) {
      paused = true;
      meters.acceptPaused();
      long now = ctx.executor().ticker().nanoTime();
      if (pauseLoggedNanos == 0 || now - pauseLoggedNanos >= ACCEPT_FAILURE_PAUSE_NANOS) {
        // At most a line a second: at the limit each close lets one in and the next fills it again.
        log.warn("listener '{}': {} client connections, its limit (limits.max-connections): accepting paused{}",
            listener, max, FailureLogLimit.leftOut(pausesNotLogged));
        pauseLoggedNanos = now;
        pausesNotLogged = 0;
        pauseLogged = true;
      } else {
        pausesNotLogged++;
        pauseLogged = false;
      }
      ctx.channel().config().setAutoRead(false);
      if (open.get() < max) {
        resume(ctx); // a connection closed before it could see the pause
      }
    }
  }

  private void resume(ChannelHandlerContext ctx) {
    while (!waiting.isEmpty() && open.get() < max) {
      Waiting next = waiting.poll();
      pass(ctx, next.child(), next.counted());
    }
    if (paused && open.get() < max) {
      paused = false;
      if (pauseLogged) {
        log.info("listener '{}': below {} client connections: accepting again", listener, max);
      }
      ctx.channel().config().setAutoRead(true);
    }
  }

  /**
   * An accept failed (most often EMFILE: no descriptor left). Accepting stops for a second, as
   * Netty's acceptor does, so the listener does not spin on a failing accept; the failure is logged at
   * most once a second, saying how many more, instead of a stack trace at the pipeline's tail on each.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    acceptFailures++;
    long now = ctx.executor().ticker().nanoTime();
    if (acceptFailureLoggedNanos == 0 || now - acceptFailureLoggedNanos >= ACCEPT_FAILURE_PAUSE_NANOS) {
      log.warn("listener '{}': accepting a connection failed: {} ({} since the last such line); accepting again"
          + " in 1 s", listener, cause.toString(), acceptFailures);
      acceptFailures = 0;
      acceptFailureLoggedNanos = now;
    }
    io.netty.channel.ChannelConfig config = ctx.channel().config();
    if (config.isAutoRead() && !paused) {
      config.setAutoRead(false);
      ctx.executor().schedule(() -> {
        if (!paused) { // else the connection bound resumes accepting when a connection closes
          config.setAutoRead(true);
        }
      }, ACCEPT_FAILURE_PAUSE_NANOS, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
  }

  private static InetAddress addressOf(Channel child) {
    return child.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
  }
}
