package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.DiscoverySettings;
import dev.meridian.proxy.config.HostPort;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks DNS for a name's addresses (A and AAAA) or SRV records with Netty's non-blocking resolver,
 * each answer with its TTL (the smallest of its records'). Nothing is cached: every call asks the
 * name servers, so the caller decides when to ask again.
 *
 * <p>Names are absolute (no search domains). Calls may come from any thread; answers complete on the
 * resolver's event loop.
 */
final class DnsLookup implements AutoCloseable {
  /** An answer: its values and the seconds they may be kept. */
  record Answer<T>(List<T> values, long ttlSeconds) {}

  /** One SRV record's data (RFC 2782). */
  record SrvRecord(int priority, int weight, int port, String target) {}

  private final EventLoop loop;
  private final DnsNameResolver resolver;

  /** A resolver on {@code loop} that asks {@code settings}' name servers (those of /etc/resolv.conf when none). */
  DnsLookup(EventLoop loop, Class<? extends DatagramChannel> channelType, DiscoverySettings settings) {
    this.loop = loop;
    List<InetSocketAddress> servers = new ArrayList<>();
    for (HostPort server : settings.dnsServers()) {
      servers.add(new InetSocketAddress(server.host(), server.port()));
    }
    this.resolver = new DnsNameResolverBuilder(loop)
        .datagramChannelType(channelType)
        .nameServerProvider(servers.isEmpty() ? DnsServerAddressStreamProviders.platformDefault()
            : new SequentialDnsServerAddressStreamProvider(servers))
        .resolveCache(NoopDnsCache.INSTANCE)
        .cnameCache(NoopDnsCnameCache.INSTANCE)
        .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
        .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
        .queryTimeoutMillis(settings.queryTimeout().toMillis())
        .searchDomains(List.of())
        .build();
  }

  /** The event loop answers complete on. */
  EventLoop loop() {
    return loop;
  }

  /** Every A and AAAA address of {@code name}; fails when the name has none (or DNS fails for both). */
  Future<Answer<InetAddress>> addresses(String name) {
    Promise<Answer<InetAddress>> promise = loop.newPromise();
    Future<Answer<InetAddress>> v4 = addressesOf(name, DnsRecordType.A);
    Future<Answer<InetAddress>> v6 = addressesOf(name, DnsRecordType.AAAA);
    v4.addListener(f4 -> v6.addListener(f6 -> {
      List<InetAddress> addresses = new ArrayList<>();
      long ttl = Long.MAX_VALUE;
      for (Future<Answer<InetAddress>> answer : List.of(v4, v6)) {
        if (answer.isSuccess()) {
          addresses.addAll(answer.getNow().values());
          ttl = Math.min(ttl, answer.getNow().ttlSeconds());
        }
      }
      if (!addresses.isEmpty()) {
        promise.setSuccess(new Answer<>(List.copyOf(addresses), ttl));
      } else {
        Throwable cause = !v4.isSuccess() ? v4.cause() : !v6.isSuccess() ? v6.cause() : null;
        promise.setFailure(cause != null ? cause : new UnknownHostException(name + ": no A or AAAA records"));
      }
    }));
    return promise;
  }

  /** The addresses of {@code name}'s records of one type (A or AAAA), possibly none. */
  private Future<Answer<InetAddress>> addressesOf(String name, DnsRecordType type) {
    return ask(name, type, DnsLookup::readAddresses, false);
  }

  /** The SRV records of {@code name}; fails when it has none. */
  Future<Answer<SrvRecord>> srv(String name) {
    return ask(name, DnsRecordType.SRV, DnsLookup::readSrv, true);
  }

  /** Reads what it can use of answer records into a list, releases every record, returns their smallest TTL. */
  private interface RecordReader<T> {
    long read(String name, List<DnsRecord> records, List<T> out);
  }

  /**
   * Asks for {@code name}'s records of {@code type} and completes with what {@code reader} makes of
   * them; with {@code noneFails}, an answer without a usable record is a failure. The records are read
   * and released as soon as they arrive: an A answer may wait long for its AAAA (a stalled name
   * server), and if the lookup stops meanwhile, records held for a combined answer are never released.
   */
  private <T> Future<Answer<T>> ask(String name, DnsRecordType type, RecordReader<T> reader, boolean noneFails) {
    Promise<Answer<T>> promise = loop.newPromise();
    resolver.resolveAll(new DefaultDnsQuestion(name, type)).addListener(f -> {
      if (!f.isSuccess()) {
        promise.setFailure(f.cause());
        return;
      }
      @SuppressWarnings("unchecked")
      List<DnsRecord> records = (List<DnsRecord>) f.getNow();
      List<T> out = new ArrayList<>();
      long ttl;
      try {
        ttl = reader.read(name, records, out);
      } catch (RuntimeException e) {
        // A reader skips what it cannot decode; anything else still ends the lookup (so the refresh
        // goes on), and the records the reader did not reach are released here.
        for (DnsRecord record : records) {
          if (ReferenceCountUtil.refCnt(record) > 0) {
            ReferenceCountUtil.release(record);
          }
        }
        promise.setFailure(e);
        return;
      }
      if (noneFails && out.isEmpty()) {
        promise.setFailure(new UnknownHostException(name + ": no " + type.name() + " records"));
      } else {
        promise.setSuccess(new Answer<>(List.copyOf(out), ttl));
      }
    });
    return promise;
  }

  /**
   * Adds the SRV records' data to {@code out}, skipping one whose target name does not decode,
   * releases every record, returns their smallest TTL.
   */
  private static long readSrv(String name, List<DnsRecord> records, List<SrvRecord> out) {
    long ttl = Long.MAX_VALUE;
    for (DnsRecord record : records) {
      try {
        if (record.type() == DnsRecordType.SRV && record instanceof DnsRawRecord raw
            && raw.content().readableBytes() > 6) {
          ByteBuf data = raw.content().duplicate();
          int at = data.readerIndex();
          out.add(new SrvRecord(data.getUnsignedShort(at), data.getUnsignedShort(at + 2),
              data.getUnsignedShort(at + 4), DefaultDnsRecordDecoder.decodeName(data.readerIndex(at + 6))));
          ttl = Math.min(ttl, record.timeToLive());
        }
      } catch (CorruptedFrameException | IndexOutOfBoundsException malformed) {
        // A target name that does not decode: the record is skipped, the others still count.
      } finally {
        ReferenceCountUtil.release(record);
      }
    }
    return ttl;
  }

  /** Adds the addresses of A/AAAA records to {@code out}, releases every record, returns their smallest TTL. */
  private static long readAddresses(String name, List<DnsRecord> records, List<InetAddress> out) {
    long ttl = Long.MAX_VALUE;
    for (DnsRecord record : records) {
      try {
        if (record instanceof DnsRawRecord raw && (record.type() == DnsRecordType.A
            || record.type() == DnsRecordType.AAAA)) {
          ByteBuf data = raw.content();
          int length = data.readableBytes();
          if (length == 4 || length == 16) {
            byte[] bytes = new byte[length];
            data.getBytes(data.readerIndex(), bytes);
            out.add(InetAddress.getByAddress(name, bytes));
            ttl = Math.min(ttl, record.timeToLive());
          }
        }
      } catch (UnknownHostException impossible) {
        // getByAddress refuses only lengths other than 4 and 16, checked above.
      } finally {
        ReferenceCountUtil.release(record);
      }
    }
    return ttl;
  }

  /** Closes the resolver's socket. */
  @Override
  public void close() {
    resolver.close();
  }
}
