package dev.meridian.proxy.config;

import java.time.Duration;
import java.util.List;

/**
 * How discovered backends are found and refreshed: {@code meridian.discovery}.
 *
 * @param dnsServers   the name servers DNS discovery asks, in order; empty: those of
 *                     {@code /etc/resolv.conf} (Netty's default provider)
 * @param minTtl       a DNS answer is asked again no sooner than this, whatever its TTL (default 1s);
 *                     also the wait before asking again after a failure
 * @param maxTtl       and no later than this (default 300s)
 * @param queryTimeout how long one DNS query may take (default 2s)
 * @param fileInterval how often a backends file is checked for changes (default 2s)
 */
public record DiscoverySettings(List<HostPort> dnsServers, Duration minTtl, Duration maxTtl, Duration queryTimeout,
    Duration fileInterval) {

  /** The defaults of {@code reference.conf}. */
  public static final DiscoverySettings DEFAULTS = new DiscoverySettings(List.of(), Duration.ofSeconds(1),
      Duration.ofSeconds(300), Duration.ofSeconds(2), Duration.ofSeconds(2));
}
