package dev.meridian.proxy.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads {@code meridian.discovery}: the DNS servers and bounds of discovered backends' refreshes. */
final class DiscoveryReader {
  private DiscoveryReader() {}

  /** Reads the section; {@code min-ttl} must not exceed {@code max-ttl}. */
  static DiscoverySettings settings(ObjectReader meridian) {
    ObjectReader discovery = meridian.section("discovery");
    ObjectReader dns = discovery.section("dns");
    List<HostPort> servers = new ArrayList<>();
    for (String text : dns.strings("servers", List.of())) {
      try {
        HostPort server = HostPort.parse(text.contains(":") || text.startsWith("[") ? text : text + ":53");
        if (server.port() < 1) {
          dns.problem("servers", "'" + text + "' has port 0 (expected: \"HOST:PORT\" with port 1-65535)");
        }
        servers.add(server);
      } catch (IllegalArgumentException e) {
        dns.problem("servers", e.getMessage());
      }
    }
    Duration minTtl = dns.duration("min-ttl");
    Duration maxTtl = dns.duration("max-ttl");
    if (minTtl.compareTo(maxTtl) > 0) {
      dns.problem("min-ttl", text(minTtl) + " is above max-ttl " + text(maxTtl) + " (expected: min-ttl <= max-ttl)");
    }
    return new DiscoverySettings(List.copyOf(servers), minTtl, maxTtl, dns.duration("query-timeout"),
        discovery.section("file").duration("interval"), kubernetes(discovery.section("kubernetes")));
  }

  /** Reads {@code discovery.kubernetes}. */
  private static DiscoverySettings.Kubernetes kubernetes(ObjectReader k) {
    String masterUrl = k.string("master-url", "");
    if (!masterUrl.isEmpty()) {
      try {
        URI uri = new URI(masterUrl);
        if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
          k.problem("master-url", "'" + masterUrl + "' is not an API server URL (expected: https://HOST:PORT)");
        }
      } catch (URISyntaxException e) {
        k.problem("master-url", "'" + masterUrl + "' is not a URL: " + e.getReason() + " (expected: https://HOST:PORT)");
      }
    }
    Optional<Path> kubeconfig = k.optionalString("kubeconfig").filter(s -> !s.isEmpty())
        .map(k.problems()::resolve);
    kubeconfig.filter(p -> !Files.isReadable(p)).ifPresent(p -> k.problem("kubeconfig",
        "cannot read " + p + " (expected: a readable kubeconfig file)"));
    return new DiscoverySettings.Kubernetes(masterUrl, kubeconfig, k.duration("watch-check"),
        Map.copyOf(k.stringMap("zones")));
  }

  /** A duration as configured: {@code 10s}, {@code 500ms}. */
  private static String text(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
