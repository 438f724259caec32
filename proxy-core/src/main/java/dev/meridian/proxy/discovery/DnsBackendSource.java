package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.BackendSourceSettings;
import dev.meridian.proxy.config.DiscoverySettings;
import dev.meridian.proxy.config.HostPort;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Backends from a DNS name ({@code backends[] = { dns = "NAME:PORT" }}): every A and AAAA address is
 * a backend on the entry's port, with the entry's region, zone and weight, its id the address
 * ({@code 10.0.0.7:8080}, {@code [2001:db8::7]:8080}).
 */
final class DnsBackendSource extends DnsRefreshingSource {
  private final BackendSourceSettings.Dns entry;

  DnsBackendSource(BackendSourceSettings.Dns entry, DnsLookup lookup, DiscoverySettings settings) {
    super(lookup, settings);
    this.entry = entry;
  }

  @Override
  Future<DnsLookup.Answer<BackendSettings>> lookUp(DnsLookup dns) {
    return map(dns, dns.addresses(entry.name()), answer -> new DnsLookup.Answer<>(
        backends(answer.values(), entry.port(), entry.region(), entry.zone(), entry.weight()), answer.ttlSeconds()));
  }

  /** One backend per address, on {@code port}, sorted by id. */
  static List<BackendSettings> backends(List<InetAddress> addresses, int port, String region, String zone,
      int weight) {
    List<BackendSettings> out = new ArrayList<>();
    for (InetAddress address : addresses) {
      HostPort hostPort = new HostPort(NetUtil.toAddressString(address), port);
      out.add(new BackendSettings(hostPort.toString(), hostPort, region, zone, weight));
    }
    return sorted(out);
  }

  @Override
  public String describe() {
    return "dns " + entry.name() + ":" + entry.port();
  }
}
