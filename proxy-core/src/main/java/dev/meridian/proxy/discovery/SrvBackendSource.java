package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.BackendSourceSettings;
import dev.meridian.proxy.config.DiscoverySettings;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Backends from a DNS SRV name ({@code backends[] = { srv = "_http._tcp.NAME" }}): the records of the
 * lowest priority present (the others are fallbacks RFC 2782 uses only when those fail, which health
 * checks and regions do here), each target's A and AAAA addresses a backend on the record's port,
 * weighted by the record's weight (0 counts as 1), with the entry's region and zone. The answer's TTL
 * is the smallest of the SRV and address records'. If any target cannot be resolved the refresh
 * fails as a whole and the last good list stays.
 */
final class SrvBackendSource extends DnsRefreshingSource {
  private final BackendSourceSettings.Srv entry;

  SrvBackendSource(BackendSourceSettings.Srv entry, DnsLookup lookup, DiscoverySettings settings) {
    super(lookup, settings);
    this.entry = entry;
  }

  @Override
  Future<DnsLookup.Answer<BackendSettings>> lookUp(DnsLookup dns) {
    Promise<DnsLookup.Answer<BackendSettings>> promise = dns.loop().newPromise();
    dns.srv(entry.name()).addListener(f -> {
      if (!f.isSuccess()) {
        promise.setFailure(f.cause());
        return;
      }
      @SuppressWarnings("unchecked")
      DnsLookup.Answer<DnsLookup.SrvRecord> answer = (DnsLookup.Answer<DnsLookup.SrvRecord>) f.getNow();
      List<DnsLookup.SrvRecord> records = lowestPriority(answer.values());
      if (records.isEmpty()) {
        promise.setFailure(new UnknownHostException(entry.name() + ": no SRV record offers the service"));
        return;
      }
      resolveTargets(dns, records, answer.ttlSeconds(), promise);
    });
    return promise;
  }

  /** The records of the lowest priority value present, leaving out "no service" ones (port 0 or target "."). */
  static List<DnsLookup.SrvRecord> lowestPriority(List<DnsLookup.SrvRecord> records) {
    List<DnsLookup.SrvRecord> usable = records.stream()
        .filter(r -> r.port() > 0 && !r.target().equals(".") && !r.target().isEmpty()).toList();
    int lowest = usable.stream().mapToInt(DnsLookup.SrvRecord::priority).min().orElse(0);
    return usable.stream().filter(r -> r.priority() == lowest).toList();
  }

  private void resolveTargets(DnsLookup dns, List<DnsLookup.SrvRecord> records, long srvTtl,
      Promise<DnsLookup.Answer<BackendSettings>> promise) {
    Map<String, Future<DnsLookup.Answer<InetAddress>>> targets = new LinkedHashMap<>();
    records.forEach(r -> targets.computeIfAbsent(r.target(), dns::addresses));
    AtomicInteger pending = new AtomicInteger(targets.size());
    targets.values().forEach(future -> future.addListener(done -> {
      if (pending.decrementAndGet() == 0) {
        complete(records, targets, srvTtl, promise);
      }
    }));
  }

  private void complete(List<DnsLookup.SrvRecord> records, Map<String, Future<DnsLookup.Answer<InetAddress>>> targets,
      long srvTtl, Promise<DnsLookup.Answer<BackendSettings>> promise) {
    for (Map.Entry<String, Future<DnsLookup.Answer<InetAddress>>> target : targets.entrySet()) {
      if (!target.getValue().isSuccess()) {
        promise.setFailure(new UnknownHostException("SRV target " + target.getKey() + ": "
            + describe(target.getValue().cause())));
        return;
      }
    }
    Map<String, BackendSettings> byId = new LinkedHashMap<>();
    long ttl = srvTtl;
    for (DnsLookup.SrvRecord r : records) {
      DnsLookup.Answer<InetAddress> addresses = targets.get(r.target()).getNow();
      ttl = Math.min(ttl, addresses.ttlSeconds());
      for (BackendSettings b : DnsBackendSource.backends(addresses.values(), r.port(), entry.region(), entry.zone(),
          Math.max(1, r.weight()))) {
        byId.putIfAbsent(b.id(), b);
      }
    }
    promise.setSuccess(new DnsLookup.Answer<>(sorted(new ArrayList<>(byId.values())), ttl));
  }

  @Override
  public String describe() {
    return "srv " + entry.name();
  }
}
