package dev.meridian.bench.load;

import dev.meridian.proxy.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * S6 of the bench suite: full TLS 1.3 handshakes per second a server completes. A number of
 * connections run in parallel, each connecting, completing a handshake and closing, then starting
 * again. No session is ever resumed: the client keeps no session cache (its engines have no peer to
 * key one by) and ignores tickets, so every handshake does the server's full key exchange and
 * signature. Prints one JSON object: handshakes per second, the protocol and cipher seen, errors.
 *
 * <p>usage: {@code HandshakeLoad HOST PORT CONNECTIONS WARMUP_SECONDS SECONDS}
 */
public final class HandshakeLoad {
  private final String host;
  private final int port;
  private final SslContext tls;
  private final EventLoopGroup group;
  private final Transport transport = Transport.choose("auto");
  private final AtomicLong completed = new AtomicLong();
  private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
  private volatile boolean running = true;
  private volatile String negotiated = "";

  private HandshakeLoad(String host, int port) throws Exception {
    this.host = host;
    this.port = port;
    this.tls = SslContextBuilder.forClient()
        .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
        .protocols("TLSv1.3")
        .trustManager(InsecureTrustManagerFactory.INSTANCE)
        .build();
    this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("handshake-load", true),
        transport.ioHandlerFactory());
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      System.err.println("usage: HandshakeLoad HOST PORT CONNECTIONS WARMUP_SECONDS SECONDS");
      System.exit(2);
    }
    HandshakeLoad load = new HandshakeLoad(args[0], Integer.parseInt(args[1]));
    int connections = Integer.parseInt(args[2]);
    for (int i = 0; i < connections; i++) {
      load.next();
    }
    TimeUnit.SECONDS.sleep(Long.parseLong(args[3]));
    long before = load.completed.get();
    Map<String, Long> errorsBefore = load.errors();
    long start = System.nanoTime();
    TimeUnit.SECONDS.sleep(Long.parseLong(args[4]));
    double seconds = (System.nanoTime() - start) / 1e9;
    long done = load.completed.get() - before;
    Map<String, Long> errorsAfter = load.errors();
    load.running = false;
    load.group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    long errorCount = 0;
    StringBuilder kinds = new StringBuilder();
    for (Map.Entry<String, Long> e : errorsAfter.entrySet()) {
      long n = e.getValue() - errorsBefore.getOrDefault(e.getKey(), 0L);
      if (n > 0) {
        errorCount += n;
        kinds.append(kinds.length() > 0 ? "," : "").append('"').append(e.getKey().replace("\"", "'")).append("\":").append(n);
      }
    }
    System.out.printf("{\"handshakes_per_s\":%.1f,\"handshakes\":%d,\"negotiated\":\"%s\",\"client_tls\":\"%s\","
            + "\"errors\":%d,\"errors_by_kind\":{%s}}%n",
        done / seconds, done, load.negotiated, OpenSsl.isAvailable() ? OpenSsl.versionString() : "JDK", errorCount, kinds);
  }

  private Map<String, Long> errors() {
    Map<String, Long> out = new TreeMap<>();
    errors.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Opens one connection, completes its handshake, closes it, and starts the next. */
  private void next() {
    if (!running) {
      return;
    }
    ChannelFuture connect = new Bootstrap().group(group).channel(transport.socketChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
          }
        })
        .connect(host, port);
    connect.addListener((ChannelFuture f) -> {
      if (!f.isSuccess()) {
        fail("connect: " + f.cause().getClass().getSimpleName());
        f.channel().eventLoop().schedule(this::next, 10, TimeUnit.MILLISECONDS);
        return;
      }
      Channel ch = f.channel();
      SslHandler ssl = ch.pipeline().get(SslHandler.class);
      ssl.handshakeFuture().addListener(h -> {
        if (h.isSuccess()) {
          completed.incrementAndGet();
          if (negotiated.isEmpty()) {
            negotiated = ssl.engine().getSession().getProtocol() + " " + ssl.engine().getSession().getCipherSuite();
          }
        } else {
          fail("handshake: " + h.cause().getClass().getSimpleName());
        }
        ch.close().addListener(c -> next());
      });
    });
  }

  private void fail(String kind) {
    if (running) {
      errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }
  }
}
