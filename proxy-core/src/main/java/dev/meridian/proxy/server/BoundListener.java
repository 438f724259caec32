package dev.meridian.proxy.server;

import dev.meridian.proxy.config.MeridianSettings.ListenerSettings;
import dev.meridian.proxy.transport.SocketClose;
import dev.meridian.tls.CertificateReloader;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One bound client listener and what belongs to it: its server channel, connection gate, pipeline
 * initializer, certificates (with their OCSP stapling task) and the client connections it accepted.
 * A reload retunes it in place (certificates, PROXY protocol, connection limits: new connections see
 * them, open ones keep theirs) or drains it: it stops accepting, and its connections finish their
 * requests in flight and close (HTTP/2 with GOAWAY).
 *
 * <p>Retuned and drained by one thread at a time (the {@link ClientListeners} lock).
 */
final class BoundListener {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BoundListener.class);

  private ListenerSettings settings;
  private final Channel channel;
  private final ListenerGate gate;
  private final ClientChannelInitializer initializer;
  /** The client connections this listener accepted, still open. */
  private final ChannelGroup connections;
  /** The certificates, or null for cleartext; read by the metrics' scrape thread too. */
  private volatile ListenerTls tls;
  /** Certificate reloads applied and refused by the watchers a config reload replaced (under reloadCounts). */
  private long reloadsBefore;
  private long refusedBefore;
  private final Object reloadCounts = new Object();

  /**
   * The certificates of a TLS listener and the task keeping their OCSP responses fresh.
   *
   * @param reloader the certificates, watched for changes
   * @param stapling the OCSP task, cancelled with the certificates
   */
  record ListenerTls(CertificateReloader reloader, Future<?> stapling) {
    void close() {
      stapling.cancel(false);
      reloader.close();
    }
  }

  BoundListener(ListenerSettings settings, Channel channel, ListenerGate gate, ClientChannelInitializer initializer,
      ChannelGroup connections, ListenerTls tls) {
    this.settings = settings;
    this.channel = channel;
    this.gate = gate;
    this.initializer = initializer;
    this.connections = connections;
    this.tls = tls;
  }

  ListenerSettings settings() {
    return settings;
  }

  /** The bound address (port 0 resolved). */
  InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  /** The listener's certificates, or null for cleartext. */
  ListenerTls tls() {
    return tls;
  }

  /**
   * Puts new settings in force for connections accepted from now on: the certificates {@code nextTls}
   * (already built and watched; null for cleartext), the PROXY protocol's load balancers and the
   * connection limits. Certificates replaced stop being watched; connections that use them continue.
   */
  void retune(ListenerSettings next, ListenerTls nextTls, int maxConnections, int maxPerClient) {
    initializer.retune(nextTls == null ? null : nextTls.reloader(), ClientChannelInitializer.proxyProtocolFrom(next));
    gate.limits(maxConnections, maxPerClient);
    synchronized (reloadCounts) { // a scrape sees the counts before the swap or after it, never half of it
      if (tls != null && tls != nextTls) {
        reloadsBefore += tls.reloader().reloads();
        refusedBefore += tls.reloader().rejectedReloads();
        tls.close();
      }
      tls = nextTls;
    }
    settings = next;
    if (nextTls != null) {
      gate.certificateMeters(this::certificateExpirySeconds, () -> certificateReloads(true),
          () -> certificateReloads(false)); // a listener that took TLS up in a reload
    } else {
      gate.closeCertificateMeters();
    }
  }

  /**
   * Tells each connection the drain started, and waits (up to a second) until each has heard: a
   * request in flight then answers with {@code Connection: close} whenever its response comes, even
   * if the response is read in the same event-loop turn as the reload's call (the event, fired from
   * another thread, would otherwise be queued behind that read).
   */
  private static void tellDraining(ChannelGroup connections) {
    java.util.List<io.netty.util.concurrent.Future<?>> told = new java.util.ArrayList<>();
    for (Channel ch : connections) {
      if (ch.eventLoop().inEventLoop()) {
        ch.pipeline().fireUserEventTriggered(FrontendHandler.DrainEvent.INSTANCE);
      } else {
        told.add(ch.eventLoop().submit(() -> ch.pipeline().fireUserEventTriggered(FrontendHandler.DrainEvent.INSTANCE)));
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    for (io.netty.util.concurrent.Future<?> f : told) {
      f.awaitUninterruptibly(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    }
  }

  /**
   * Stops accepting, and asks every connection to close once its requests in flight are answered
   * (idle ones after the drain's grace, in which a request already sent is still answered; HTTP/2
   * ones send GOAWAY); those still open after {@code drainTimeout} are closed.
   */
  void drain(Duration drainTimeout) {
    InetSocketAddress address = address();
    channel.close().awaitUninterruptibly();
    gate.closeMeters();
    if (tls != null) {
      tls.close();
    }
    tellDraining(connections);
    channel.eventLoop().schedule(() -> connections.forEach(
            ch -> ch.pipeline().fireUserEventTriggered(FrontendHandler.DrainEvent.GRACE_OVER)),
        Math.min(ClientDrain.GRACE.toMillis(), drainTimeout.toMillis()), TimeUnit.MILLISECONDS);
    int open = connections.size();
    log.info("listener '{}' on {} closed; {} connection(s) drain", settings.name(), address, open);
    if (open > 0) {
      channel.eventLoop().schedule(() -> {
        if (!connections.isEmpty()) {
          log.warn("listener '{}': {} connection(s) still open {} ms after it closed; closing them", settings.name(),
              connections.size(), drainTimeout.toMillis());
          connections.forEach(ch -> ch.pipeline().fireUserEventTriggered(FrontendHandler.DrainEvent.TIME_UP));
          connections.close();
          // As at shutdown: one whose orderly close a peer that reads nothing holds goes at its socket.
          channel.eventLoop().schedule(() -> connections.forEach(SocketClose::now),
              ClientDrain.CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        }
      }, drainTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Reports the listener's open connections in the metrics, and on a TLS listener when its first
   * certificate expires (once it is in force).
   */
  void openMeters() {
    gate.openMeters();
    if (tls != null) {
      gate.certificateMeters(this::certificateExpirySeconds, () -> certificateReloads(true),
          () -> certificateReloads(false));
    }
  }

  /** Certificate reloads applied ({@code true}) or refused so far, over every watcher this listener had. */
  private long certificateReloads(boolean applied) {
    synchronized (reloadCounts) {
      ListenerTls now = tls;
      long current = now == null ? 0 : applied ? now.reloader().reloads() : now.reloader().rejectedReloads();
      return current + (applied ? reloadsBefore : refusedBefore);
    }
  }

  /**
   * When the first of the listener's certificates in force expires, in Unix seconds (NaN between a
   * reload that makes the listener cleartext and the gauge's removal).
   */
  private double certificateExpirySeconds() {
    ListenerTls now = tls;
    return now == null ? Double.NaN : now.reloader().current().earliestExpiry().getEpochSecond();
  }

  /** Stops accepting (shutdown: the server drains every connection itself). */
  void close() {
    channel.close().awaitUninterruptibly();
  }
}
