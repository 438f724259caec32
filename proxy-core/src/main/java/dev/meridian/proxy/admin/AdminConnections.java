package dev.meridian.proxy.admin;

import io.netty.channel.Channel;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds what the admin listener's connections may hold: at most {@value #MAX_CONNECTIONS} open at
 * once and {@value #MAX_PER_ADDRESS} from one client address (one more is closed as it is accepted), so
 * connections left open to the admin port cannot use up the process's file descriptors, which the
 * client listeners need, nor one peer lock the others out ({@value #MAX_PER_NETWORK} per IPv6 /64); and each is closed after
 * {@code timeouts.client-idle} (as the client listeners' are; {@value #IDLE_SECONDS} s when that is
 * off) in which no complete request arrived and nothing was written: a scraper keeping its
 * connection alive between scrapes stays, a client trickling a head does not. A dashboard's stream
 * is written to every second and stays.
 *
 * <p>Used on the admin listener's single event loop only.
 */
final class AdminConnections {
  private static final Logger log = LoggerFactory.getLogger(AdminConnections.class);
  /** Admin connections open at once; Prometheus, a few dashboards and scripts need a handful. */
  static final int MAX_CONNECTIONS = 128;
  /**
   * Admin connections one client address may hold: a peer that keeps connections busy (a complete
   * request every few seconds, /healthz needs no token) cannot take every slot.
   */
  static final int MAX_PER_ADDRESS = 16;
  /** Admin connections the addresses of one IPv6 /64 may hold together. */
  static final int MAX_PER_NETWORK = 64;
  /** Seconds idle after which a connection is closed when timeouts.client-idle is off. */
  static final int IDLE_SECONDS = 60;

  private final int maxConnections;
  private final long idleMillis;
  private int open;
  /** Connections open per client address. */
  private final java.util.Map<java.net.InetAddress, Integer> byAddress = new java.util.HashMap<>();
  /** Connections open per IPv6 /64 ({@link #networkOf}). */
  private final java.util.Map<java.net.InetAddress, Integer> byNetwork = new java.util.HashMap<>();
  private long refused;
  private long lastRefusalLoggedNanos;
  private boolean refusalLogged;

  /** Bounds of {@value #MAX_CONNECTIONS} connections, each closed after {@code idle} without a request. */
  AdminConnections(java.time.Duration idle) {
    this.maxConnections = MAX_CONNECTIONS;
    this.idleMillis = idle.isZero() ? TimeUnit.SECONDS.toMillis(IDLE_SECONDS) : idle.toMillis();
  }

  /** The idle handler for a connection's pipeline, after the request aggregator. */
  io.netty.channel.ChannelHandler idleHandler() {
    return new dev.meridian.proxy.transport.IdleTimeoutHandler(idleMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * Counts a connection just accepted, or closes it when the most allowed are open already.
   *
   * @return whether it was admitted
   */
  boolean admit(Channel channel) {
    java.net.InetAddress peer = channel.remoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
    java.net.InetAddress network = peer == null ? null : networkOf(peer);
    if (peer != null && byAddress.getOrDefault(peer, 0) >= MAX_PER_ADDRESS) {
      // One address cannot take every slot and lock the operators, the scraper and the probes out.
      refused++;
      logRefusal(channel, "from its address, the most one address may hold");
      channel.close();
      return false;
    }
    if (network != null && byNetwork.getOrDefault(network, 0) >= MAX_PER_NETWORK) {
      // Nor one host with a whole IPv6 /64, one address a connection.
      refused++;
      logRefusal(channel, "from its IPv6 /64, the most one /64 may hold");
      channel.close();
      return false;
    }
    if (open >= maxConnections) {
      refused++;
      logRefusal(channel, "in all, the most allowed");
      channel.close();
      return false;
    }
    open++;
    if (peer != null) {
      byAddress.merge(peer, 1, Integer::sum);
    }
    if (network != null) {
      byNetwork.merge(network, 1, Integer::sum);
    }
    channel.closeFuture().addListener(f -> {
      open--;
      if (peer != null) {
        byAddress.computeIfPresent(peer, (k, n) -> n > 1 ? n - 1 : null);
      }
      if (network != null) {
        byNetwork.computeIfPresent(network, (k, n) -> n > 1 ? n - 1 : null);
      }
    });
    return true;
  }

  /**
   * The IPv6 /64 a peer's address belongs to, counted apart from the address ({@value #MAX_PER_NETWORK}
   * connections; one host usually has a whole /64 and could take every slot with addresses of it);
   * null for an IPv4, loopback or link-local address (every link-local peer shares fe80::/64).
   */
  static java.net.InetAddress networkOf(java.net.InetAddress address) {
    if (!(address instanceof java.net.Inet6Address) || address.isLoopbackAddress() || address.isLinkLocalAddress()) {
      return null;
    }
    byte[] bytes = address.getAddress();
    java.util.Arrays.fill(bytes, 8, 16, (byte) 0);
    try {
      return java.net.InetAddress.getByAddress(bytes);
    } catch (java.net.UnknownHostException cannotHappen) {
      return null; // 16 bytes are always an address
    }
  }

  private void logRefusal(Channel channel, String which) {
    long now = System.nanoTime();
    if (!refusalLogged || now - lastRefusalLoggedNanos >= TimeUnit.SECONDS.toNanos(1)) {
      refusalLogged = true;
      lastRefusalLoggedNanos = now;
      log.warn("admin: connections open {}; closed a new one from {} ({} refused so far)", which,
          channel.remoteAddress(), refused);
    }
  }

  /** Connections open now. */
  int open() {
    return open;
  }
}
