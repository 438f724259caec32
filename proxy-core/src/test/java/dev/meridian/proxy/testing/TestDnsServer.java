package dev.meridian.proxy.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small authoritative DNS server for tests, on UDP {@code 127.0.0.1}, port 0, built on Netty's DNS
 * codec: it answers A, AAAA and SRV questions from records the test sets and changes while it runs
 * (NXDOMAIN for a name it has nothing for, an empty answer for a type it lacks), can answer SERVFAIL
 * to everything or nothing to a type, and counts the questions it was asked.
 */
public final class TestDnsServer implements AutoCloseable {
  /** One record's data and TTL. */
  private record Rr(DnsRecordType type, long ttl, byte[] data) {}

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Map<String, List<Rr>> records = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> questions = new ConcurrentHashMap<>();
  private volatile boolean serverFailure;
  private final Set<String> unanswered = ConcurrentHashMap.newKeySet();
  private final Channel channel;

  private TestDnsServer() throws InterruptedException {
    channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
        .handler(new ChannelInitializer<DatagramChannel>() {
          @Override
          protected void initChannel(DatagramChannel ch) {
            ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(), new Answerer());
          }
        }).bind("127.0.0.1", 0).sync().channel();
  }

  /** Starts a server with no records. */
  public static TestDnsServer start() throws InterruptedException {
    return new TestDnsServer();
  }

  /** The address to configure as the name server, e.g. {@code "127.0.0.1:40123"}. */
  public String address() {
    InetSocketAddress a = (InetSocketAddress) channel.localAddress();
    return "127.0.0.1:" + a.getPort();
  }

  /** Replaces the name's A and AAAA records by these addresses (IPv4 or IPv6 literals), all with {@code ttl} seconds. */
  public TestDnsServer addresses(String name, long ttl, String... addresses) {
    List<Rr> list = new ArrayList<>(others(name, DnsRecordType.SRV));
    for (String a : addresses) {
      byte[] bytes = literal(a);
      list.add(new Rr(bytes.length == 4 ? DnsRecordType.A : DnsRecordType.AAAA, ttl, bytes));
    }
    records.put(key(name), list);
    return this;
  }

  /** Replaces the name's SRV records by these, each {@code "priority weight port target"}, all with {@code ttl} seconds. */
  public TestDnsServer srv(String name, long ttl, String... srvRecords) {
    List<Rr> list = new ArrayList<>(others(name, DnsRecordType.A, DnsRecordType.AAAA));
    for (String r : srvRecords) {
      String[] f = r.split(" ");
      ByteBuf data = Unpooled.buffer();
      data.writeShort(Integer.parseInt(f[0])).writeShort(Integer.parseInt(f[1])).writeShort(Integer.parseInt(f[2]));
      for (String label : f[3].split("\\.")) {
        data.writeByte(label.length()).writeBytes(label.getBytes(StandardCharsets.US_ASCII));
      }
      data.writeByte(0);
      byte[] bytes = new byte[data.readableBytes()];
      data.readBytes(bytes);
      data.release();
      list.add(new Rr(DnsRecordType.SRV, ttl, bytes));
    }
    records.put(key(name), list);
    return this;
  }

  /** Adds an SRV record of the name with these bytes as its data, as they are (e.g. a target name that does not decode). */
  public TestDnsServer srvData(String name, long ttl, byte[] data) {
    List<Rr> list = new ArrayList<>(records.getOrDefault(key(name), List.of()));
    list.add(new Rr(DnsRecordType.SRV, ttl, data.clone()));
    records.put(key(name), list);
    return this;
  }

  /** Forgets every record of the name: it is answered NXDOMAIN. */
  public TestDnsServer remove(String name) {
    records.remove(key(name));
    return this;
  }

  /** Answers SERVFAIL to every question while {@code failing}. */
  public void serverFailure(boolean failing) {
    this.serverFailure = failing;
  }

  /** Leaves every question of {@code type} (e.g. {@code "AAAA"}) unanswered, as a stalled name server does. */
  public TestDnsServer unanswered(String type) {
    unanswered.add(type);
    return this;
  }

  /** Questions asked so far for the name and type, e.g. {@code questions("app.test", "A")}. */
  public int questions(String name, String type) {
    AtomicInteger n = questions.get(key(name) + "/" + type);
    return n == null ? 0 : n.get();
  }

  @Override
  public void close() {
    if (group.isShuttingDown()) {
      return;
    }
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  private List<Rr> others(String name, DnsRecordType... types) {
    List<DnsRecordType> kept = List.of(types);
    return records.getOrDefault(key(name), List.of()).stream().filter(r -> kept.contains(r.type())).toList();
  }

  private static String key(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }

  private static byte[] literal(String address) {
    try {
      return InetAddress.getByName(address).getAddress(); // a literal: no lookup
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(address, e);
    }
  }

  /** Answers each query from the records in force. */
  private final class Answerer extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
      DnsQuestion question = query.recordAt(DnsSection.QUESTION);
      String name = key(question.name());
      questions.computeIfAbsent(name + "/" + question.type().name(), k -> new AtomicInteger()).incrementAndGet();
      if (unanswered.contains(question.type().name())) {
        return;
      }
      DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
      response.setAuthoritativeAnswer(true).setRecursionAvailable(true);
      response.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(question.name(), question.type()));
      List<Rr> known = records.get(name);
      if (serverFailure) {
        response.setCode(DnsResponseCode.SERVFAIL);
      } else if (known == null) {
        response.setCode(DnsResponseCode.NXDOMAIN);
      } else {
        for (Rr r : known) {
          if (r.type().equals(question.type())) {
            response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(), r.type(), r.ttl(),
                Unpooled.wrappedBuffer(r.data())));
          }
        }
      }
      ctx.writeAndFlush(response);
    }
  }
}
