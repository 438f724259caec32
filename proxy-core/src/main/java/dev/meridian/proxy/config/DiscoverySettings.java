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
 * @param kubernetes   how the Kubernetes API is reached ({@code discovery.kubernetes})
 */
public record DiscoverySettings(List<HostPort> dnsServers, Duration minTtl, Duration maxTtl, Duration queryTimeout,
    Duration fileInterval, Kubernetes kubernetes) {

  /** The defaults of {@code reference.conf}. */
  public static final DiscoverySettings DEFAULTS = new DiscoverySettings(List.of(), Duration.ofSeconds(1),
      Duration.ofSeconds(300), Duration.ofSeconds(2), Duration.ofSeconds(2), Kubernetes.DEFAULTS);

  /**
   * How the Kubernetes API is reached: {@code discovery.kubernetes}. With neither key, fabric8's
   * automatic configuration: the pod's service account inside a cluster, else {@code ~/.kube/config}
   * (or {@code KUBECONFIG}).
   *
   * @param masterUrl  the API server's URL, e.g. {@code https://10.0.0.1:6443}; empty: automatic
   * @param kubeconfig a kubeconfig file to read (its current context); empty: automatic
   * @param watchCheck how often a watch is checked to be connected; a lost watch counts as a
   *                   failure once per loss (default 2s)
   * @param zones      zone to region for the endpoints of kubernetes entries (default none); each
   *                   entry carries a copy ({@link BackendSourceSettings.Kubernetes#zones})
   */
  public record Kubernetes(String masterUrl, java.util.Optional<java.nio.file.Path> kubeconfig, Duration watchCheck,
      java.util.Map<String, String> zones) {

    /** The defaults of {@code reference.conf}. */
    public static final Kubernetes DEFAULTS = new Kubernetes("", java.util.Optional.empty(), Duration.ofSeconds(2),
        java.util.Map.of());
  }
}
