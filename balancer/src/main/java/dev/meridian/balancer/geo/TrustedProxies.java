package dev.meridian.balancer.geo;

import java.net.InetAddress;
import java.util.List;

/**
 * The proxies whose requests may speak for the client: only a peer in one of their networks (or any
 * peer, with trusted hops) is believed when it sets the client-region or country header, or names
 * the client in {@code X-Forwarded-For}. Immutable; empty by default, which trusts nobody.
 */
public final class TrustedProxies {
  private static final TrustedProxies NONE = new TrustedProxies(new CidrTable<>(), 0);

  private final CidrTable<Boolean> networks;
  private final int hops;

  private TrustedProxies(CidrTable<Boolean> networks, int hops) {
    this.networks = networks;
    this.hops = hops;
  }

  /** Trusts nobody. */
  public static TrustedProxies none() {
    return NONE;
  }

  /**
   * Trusts the given networks.
   *
   * @param cidrs networks such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}, or bare addresses
   * @throws IllegalArgumentException naming the first entry that is not a network
   */
  public static TrustedProxies of(List<String> cidrs) {
    return of(cidrs, 0);
  }

  /**
   * Trusts the given networks and, with {@code hops} above 0, every peer as the last of that many
   * proxies in front of Meridian.
   */
  public static TrustedProxies of(List<String> cidrs, int hops) {
    CidrTable<Boolean> table = new CidrTable<>();
    for (String cidr : cidrs) {
      table.put(cidr, Boolean.TRUE);
    }
    return of(table, hops);
  }

  /** Trusts the networks already in {@code table}, which the caller no longer changes, and the hops. */
  static TrustedProxies of(CidrTable<Boolean> table, int hops) {
    return table.isEmpty() && hops == 0 ? NONE : new TrustedProxies(table, hops);
  }

  /** Whether the connection's peer may speak for the client: in a trusted network, or any peer with trusted hops. */
  public boolean isTrustedPeer(InetAddress peer) {
    return hops > 0 || isTrusted(peer);
  }

  /** Proxies trusted in front of Meridian whatever their addresses (0: only the networks). */
  public int hops() {
    return hops;
  }

  /** True when {@code peer} is in one of the trusted networks. */
  public boolean isTrusted(InetAddress peer) {
    return isTrusted(peer.getAddress());
  }

  /** True when {@code address} (4 or 16 bytes) is in one of the trusted networks. Allocates nothing. */
  public boolean isTrusted(byte[] address) {
    return !networks.isEmpty() && networks.lookup(address) != null;
  }

  /** Whether nobody is trusted. */
  public boolean isEmpty() {
    return networks.isEmpty() && hops == 0;
  }
}
