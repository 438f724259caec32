package dev.meridian.proxy.server;

import dev.meridian.proxy.metrics.ProxyMetrics;
import dev.meridian.proxy.transport.SocketClose;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.group.ChannelGroup;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets the client connections of a stopping server finish, once its listeners are closed: requests in
 * flight are answered with Connection: close (HTTP/2: GOAWAY); a connection between requests, or that
 * has sent nothing yet, is kept (and read) for {@link #GRACE}, so that a request its client sent
 * meanwhile is answered rather than lost in a reset, and then closed once its last answer is sent
 * (a slow reader's answer is waited for, up to the drain timeout). So is one whose response in
 * flight had already left without Connection: close when the drain started. A tunnel (a WebSocket
 * after its 101) runs on until it closes or the drain timeout ends it: Meridian does not speak its
 * protocol, so cannot ask it to end sooner.
 *
 * <p>Runs on the thread that stops the server; the connections hear of it through
 * {@link FrontendHandler.DrainEvent}s on their own event loops.
 */
final class ClientDrain {
  private static final Logger log = LoggerFactory.getLogger(ClientDrain.class);
  /**
   * How long a connection between requests (or that has sent nothing yet) is kept: long enough for a
   * request its client already sent to arrive. Capped by the drain timeout.
   */
  static final Duration GRACE = Duration.ofSeconds(1);
  /**
   * How long the connections left after the drain get for their orderly close (GOAWAY, close_notify)
   * before they are closed at the socket.
   */
  static final Duration CLOSE_GRACE = Duration.ofSeconds(1);

  private final ChannelGroup clients;
  private final ProxyMetrics metrics;

  ClientDrain(ChannelGroup clients, ProxyMetrics metrics) {
    this.clients = clients;
    this.metrics = metrics;
  }

  /**
   * Starts the drain and waits until, after the grace, no request is in flight (or no connection is
   * left), or until {@code drainTimeout}; the caller closes what remains.
   *
   * @return whether every request finished within the drain timeout
   */
  boolean await(Duration drainTimeout) {
    clients.forEach(ch -> ch.pipeline().fireUserEventTriggered(FrontendHandler.DrainEvent.INSTANCE));
    long start = System.nanoTime();
    long deadline = start + drainTimeout.toNanos();
    long graceOver = start + Math.min(GRACE.toNanos(), drainTimeout.toNanos());
    boolean idleClosed = false;
    while (!clients.isEmpty()) {
      long now = System.nanoTime();
      if (!idleClosed && now - graceOver >= 0) {
        idleClosed = true;
        clients.forEach(ch -> ch.pipeline().fireUserEventTriggered(FrontendHandler.DrainEvent.GRACE_OVER));
      } else if (idleClosed && metrics.inFlight() == 0 && metrics.openTunnels() == 0 && !answersUnsent()) {
        // Looked at from the poll after the one that ended the grace, once the connections had it.
        break;
      }
      if (now - deadline > 0) {
        if (metrics.inFlight() == 0 && metrics.openTunnels() == 0) {
          if (!drainTimeout.isZero() && answersUnsent()) { // a stop without a drain asked for no wait
            log.warn("drain timeout of {} ms passed with answers still unsent to clients that read slowly;"
                + " closing their connections", drainTimeout.toMillis());
          }
          break;
        }
        log.warn("drain timeout of {} ms passed with {} request(s) in flight and {} tunnel(s) (WebSocket, ...)"
            + " open; answering those not yet answered 503 and closing them", drainTimeout.toMillis(),
            metrics.inFlight(), metrics.openTunnels());
        clients.forEach(ch -> ch.pipeline().fireUserEventTriggered(FrontendHandler.DrainEvent.TIME_UP));
        return false;
      }
      clients.newCloseFuture().awaitUninterruptibly(50, TimeUnit.MILLISECONDS);
    }
    return true;
  }

  /**
   * Whether a client connection still holds bytes of an answer not yet taken by its socket: a request
   * that ended is no longer in flight, yet a slow reader may still be receiving its answer, which a
   * close now would cut short.
   */
  private boolean answersUnsent() {
    for (Channel ch : clients) {
      ChannelOutboundBuffer unsent = ch.unsafe().outboundBuffer();
      if (unsent != null && unsent.totalPendingWriteBytes() > 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * Closes the connections left once {@link #await} returned. Each gets its orderly close, and one
   * still open after {@link #CLOSE_GRACE} is closed at its socket: an HTTP/2 client that keeps its
   * windows shut holds the codec's close (which waits for its open streams) and its GOAWAY, and a
   * TLS client that reads nothing holds its close_notify, so that the process would otherwise wait
   * for them past the drain timeout it was given.
   */
  void closeRemaining() {
    if (clients.close().awaitUninterruptibly(CLOSE_GRACE.toMillis())) {
      return;
    }
    int left = clients.size();
    clients.forEach(SocketClose::now);
    if (!clients.newCloseFuture().awaitUninterruptibly(CLOSE_GRACE.toMillis())) {
      log.warn("{} client connection(s) still open after their close at the socket", clients.size());
    } else if (left > 0) {
      log.info("closed {} client connection(s) that did not finish their orderly close within {} ms", left,
          CLOSE_GRACE.toMillis());
    }
  }
}
