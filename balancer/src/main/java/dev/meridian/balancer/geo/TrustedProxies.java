package dev.meridian.balancer.geo;

import java.net.InetAddress;
import java.util.List;

/**
 * The networks whose requests may speak for the client: only a peer in one of them is believed
 * when it sets the client-region or country header, or names the client in
 * {@code X-Forwarded-For}. Immutable; empty by default, which trusts nobody.
 */
public final class TrustedProxies {
  private static final TrustedProxies NONE = new TrustedProxies(new CidrTable<>());

  private final CidrTable<Boolean> networks;

  private TrustedProxies(CidrTable<Boolean> networks) {
    this.networks = networks;
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
    CidrTable<Boolean> table = new CidrTable<>();
    for (String cidr : cidrs) {
      table.put(cidr, Boolean.TRUE);
    }
    return of(table);
  }

  /** Trusts the networks already in {@code table}, which the caller no longer changes. */
  static TrustedProxies of(CidrTable<Boolean> table) {
    return table.isEmpty() ? NONE : new TrustedProxies(table);
  }

  /** True when {@code peer} is in one of the trusted networks. */
  public boolean isTrusted(InetAddress peer) {
    return isTrusted(peer.getAddress());
  }

  /** True when {@code address} (4 or 16 bytes) is in one of the trusted networks. Allocates nothing. */
  public boolean isTrusted(byte[] address) {
    return !networks.isEmpty() && networks.lookup(address) != null;
  }

  public boolean isEmpty() {
    return networks.isEmpty();
  }
}
