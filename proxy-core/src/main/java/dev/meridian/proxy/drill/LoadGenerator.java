package dev.meridian.proxy.drill;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.DefaultThreadFactory;
import dev.meridian.proxy.transport.Transport;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Open-loop HTTP/1.1 load for a drill: GETs are scheduled at a fixed rate whatever the answers do,
 * and each latency is measured from the request's <em>intended</em> send time, so a stall shows as
 * the queueing it causes (no coordinated omission). Requests go over a fixed number of keep-alive
 * connections, one at a time each; a request waits for a free connection, and that wait counts.
 *
 * <p>Outcomes: a status below 500 is a success; {@code status-5xx} codes, {@code reset} (the
 * connection closed before the response was complete), {@code connect} (no connection could be made
 * for the request) and {@code timeout} (no answer within the timeout from its intended time) are
 * errors. Every outcome's latency, failures included (a timeout at the time it was given up), goes to
 * an HdrHistogram {@link Recorder}, read by interval with {@link #interval()}: a region that times
 * out shows in the percentiles, not only in the error count. A connection sends its next waiting
 * request as soon as an answer arrives.
 *
 * <p>Each request is handed out at its intended time exactly, to an idle connection if there is one:
 * the generator wakes for the next one on the native transport where there is one, whose timers are
 * not rounded to milliseconds. Late requests are expired every 5 ms. The bench harness's open-loop scenario (S2)
 * uses it too ({@code dev.meridian.bench.load.OpenLoopLoad}).
 *
 * <p>Everything but the readers runs on the generator's own event loop.
 */
public final class LoadGenerator implements AutoCloseable {
  private static final long RECONNECT_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(10);
  /** The longest the generator sleeps between wake-ups. */
  private static final long MAX_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  /** How often requests waiting or in flight are checked against the timeout. */
  private static final long EXPIRY_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final URI target;
  private final double ratePerSecond;
  private final int connectionCount;
  private final Map<String, String> headers;
  private final long timeoutNanos;
  private final Transport transport = Transport.choose("auto");
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
      new DefaultThreadFactory("meridian-drill-load", true), transport.ioHandlerFactory());
  private final EventLoop loop = group.next();
  private final Recorder latencies = new Recorder(HIGHEST_MICROS, 3);
  private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final AtomicLong completed = new AtomicLong();
  private final ArrayDeque<Long> waiting = new ArrayDeque<>();
  private final List<Connection> connections = new ArrayList<>();
  /** Connections with nothing in flight; one may have closed since (checked when taken). */
  private final ArrayDeque<Connection> idle = new ArrayDeque<>();
  private final String pathAndQuery;
  private final SslContext ssl;
  private long startNanos;
  private long issued;
  private volatile boolean issuing;
  private String lastConnectError = "";
  private ScheduledFuture<?> nextTick;
  private ScheduledFuture<?> expiry;

  /**
   * Creates a generator (call {@link #start()}).
   *
   * @param target        http:// or https:// URL every GET goes to
   * @param ratePerSecond requests scheduled per second
   * @param connections   keep-alive connections to spread them over
   * @param headers       extra request headers
   * @param timeout       a request not answered this long after its intended time is an error
   * @param insecure      for https: accept any certificate
   */
  public LoadGenerator(URI target, double ratePerSecond, int connections, Map<String, String> headers,
      java.time.Duration timeout, boolean insecure) {
    this.target = target;
    this.ratePerSecond = ratePerSecond;
    this.connectionCount = connections;
    this.headers = Map.copyOf(headers);
    this.timeoutNanos = timeout.toNanos();
    String path = target.getRawPath() == null || target.getRawPath().isEmpty() ? "/" : target.getRawPath();
    this.pathAndQuery = target.getRawQuery() == null ? path : path + "?" + target.getRawQuery();
    try {
      this.ssl = "https".equalsIgnoreCase(target.getScheme())
          ? (insecure ? SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
              : SslContextBuilder.forClient()).build()
          : null;
    } catch (SSLException e) {
      throw new IllegalStateException("TLS client context: " + e.getMessage(), e);
    }
  }

  /** Opens the connections and starts issuing requests at the rate. */
  public void start() {
    loop.execute(() -> {
      startNanos = System.nanoTime();
      issuing = true;
      for (int i = 0; i < connectionCount; i++) {
        Connection c = new Connection();
        connections.add(c);
        c.connect();
      }
      tick();
      expiry = loop.scheduleAtFixedRate(this::expire, EXPIRY_PERIOD_NANOS, EXPIRY_PERIOD_NANOS, TimeUnit.NANOSECONDS);
    });
  }

  /**
   * Stops issuing, waits up to the timeout for the requests in flight, counts the rest as
   * {@code timeout} errors, and closes the connections.
   */
  @Override
  public void close() {
    issuing = false;
    long deadline = System.nanoTime() + timeoutNanos + TimeUnit.SECONDS.toNanos(1);
    while (System.nanoTime() < deadline && outstanding() > 0) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    try {
      loop.submit(() -> {
        if (nextTick != null) {
          nextTick.cancel(false);
        }
        if (expiry != null) {
          expiry.cancel(false);
        }
        while (!waiting.isEmpty()) {
          fail(waiting.poll(), "timeout");
        }
        for (Connection c : connections) {
          c.closing = true;
          if (c.inFlightSince != 0) {
            long intended = c.inFlightSince;
            c.inFlightSince = 0;
            fail(intended, "timeout");
          }
          if (c.channel != null) {
            c.channel.close();
          }
        }
      }).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the loop is going away anyway
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /**
   * Starts the schedule afresh from now: requests still waiting for a connection are dropped, not
   * counted. For a warm-up whose figures do not matter: a backlog the generator built while its own
   * code was still being compiled must not be measured as the target's latency.
   */
  public void restartSchedule() {
    try {
      loop.submit(() -> {
        waiting.clear();
        startNanos = System.nanoTime();
        issued = 0;
      }).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the load generator's loop did not answer: " + e, e);
    }
  }

  /** Latencies (microseconds from intended send time) completed since the previous call. */
  public Histogram interval() {
    return latencies.getIntervalHistogram();
  }

  /** Requests answered or failed so far. */
  public long completed() {
    return completed.get();
  }

  /** Errors so far by kind ({@code status-503}, {@code reset}, {@code connect}, {@code timeout}). */
  public Map<String, Long> errors() {
    Map<String, Long> out = new TreeMap<>();
    errors.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  private long outstanding() {
    try {
      return loop.submit(() -> {
        long n = waiting.size();
        for (Connection c : connections) {
          n += c.inFlightSince != 0 ? 1 : 0;
        }
        return n;
      }).get(1, TimeUnit.SECONDS);
    } catch (Exception e) {
      return 0;
    }
  }

  /**
   * Queues the requests now due, hands waiting requests to idle connections, and wakes again at the
   * next request's intended time (at most a millisecond away).
   */
  private void tick() {
    long now = System.nanoTime();
    if (issuing) {
      while (intendedTime(issued) <= now) {
        waiting.add(intendedTime(issued));
        issued++;
      }
    }
    dispatchWaiting();
    long delay = issuing ? Math.min(intendedTime(issued) - System.nanoTime(), MAX_TICK_NANOS) : MAX_TICK_NANOS;
    nextTick = loop.schedule(this::tick, Math.max(0, delay), TimeUnit.NANOSECONDS);
  }

  /** Counts the requests that waited, or have been in flight, longer than the timeout as failed. */
  private void expire() {
    long now = System.nanoTime();
    while (!waiting.isEmpty() && now - waiting.peek() > timeoutNanos) {
      fail(waiting.poll(), connectedCount() == 0 && !lastConnectError.isEmpty() ? "connect" : "timeout");
    }
    for (Connection c : connections) {
      if (c.inFlightSince != 0 && now - c.inFlightSince > timeoutNanos) {
        long intended = c.inFlightSince;
        c.inFlightSince = 0;
        fail(intended, "timeout");
        c.channel.close();
      }
    }
  }

  private long intendedTime(long request) {
    return startNanos + (long) (request * 1e9 / ratePerSecond);
  }

  private int connectedCount() {
    int n = 0;
    for (Connection c : connections) {
      n += c.channel != null && c.channel.isActive() ? 1 : 0;
    }
    return n;
  }

  private void succeed(long intendedNanos) {
    record(intendedNanos);
    completed.incrementAndGet();
  }

  /** Counts a failed request and records how long it took to fail. */
  private void fail(long intendedNanos, String kind) {
    record(intendedNanos);
    errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    completed.incrementAndGet();
  }

  private void record(long intendedNanos) {
    long micros = Math.max(1, (System.nanoTime() - intendedNanos) / 1000);
    latencies.recordValue(Math.min(micros, HIGHEST_MICROS));
  }

  /** Hands waiting requests, oldest first, to idle connections. */
  private void dispatchWaiting() {
    while (!waiting.isEmpty()) {
      Connection c = idle.poll();
      if (c == null) {
        return;
      }
      if (c.isIdle()) {
        c.send(waiting.poll());
      }
    }
  }

  /** A connection became free: it takes the oldest waiting request, or waits for one. */
  private void dispatch(Connection c) {
    if (!c.isIdle()) {
      return;
    }
    if (waiting.isEmpty()) {
      idle.add(c);
    } else {
      c.send(waiting.poll());
    }
  }

  /** One keep-alive connection carrying one request at a time. */
  private final class Connection {
    Channel channel;
    boolean connected;
    boolean closing;
    /** The intended send time of the request in flight, or 0. */
    long inFlightSince;

    boolean isIdle() {
      return connected && inFlightSince == 0 && channel.isActive();
    }

    void connect() {
      connected = false;
      int port = target.getPort() > 0 ? target.getPort() : ssl != null ? 443 : 80;
      new Bootstrap().group(loop).channel(transport.socketChannel())
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              if (ssl != null) {
                ch.pipeline().addLast(ssl.newHandler(ch.alloc(), target.getHost(), port));
              }
              ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(16 * 1024 * 1024),
                  new ResponseHandler(Connection.this));
            }
          })
          .connect(target.getHost(), port).addListener(f -> {
            if (f.isSuccess()) {
              channel = ((io.netty.channel.ChannelFuture) f).channel();
              connected = true;
              lastConnectError = "";
              channel.closeFuture().addListener(closed -> onClosed());
              dispatch(this);
            } else {
              lastConnectError = f.cause().toString();
              retryLater();
            }
          });
    }

    void send(long intendedNanos) {
      inFlightSince = intendedNanos;
      FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, pathAndQuery);
      request.headers().set(HttpHeaderNames.HOST, target.getAuthority());
      request.headers().set(HttpHeaderNames.USER_AGENT, "meridian-drill");
      headers.forEach((k, v) -> request.headers().add(k, v));
      channel.writeAndFlush(request).addListener(f -> {
        if (!f.isSuccess()) {
          channel.close();
        }
      });
    }

    void onResponse(FullHttpResponse response) {
      long intended = inFlightSince;
      inFlightSince = 0;
      if (intended == 0) {
        return; // already counted as a timeout
      }
      int status = response.status().code();
      if (status >= 500) {
        fail(intended, "status-" + status);
      } else {
        succeed(intended);
      }
      if (!HttpUtil.isKeepAlive(response)) {
        channel.close();
      } else {
        dispatch(this);
      }
    }

    void onClosed() {
      connected = false;
      if (inFlightSince != 0) {
        long intended = inFlightSince;
        inFlightSince = 0;
        fail(intended, "reset");
      }
      retryLater();
    }

    void retryLater() {
      if (!closing && !loop.isShuttingDown()) {
        loop.schedule(this::connect, RECONNECT_DELAY_NANOS, TimeUnit.NANOSECONDS);
      }
    }
  }

  private static final class ResponseHandler extends SimpleChannelInboundHandler<FullHttpResponse> {
    private final Connection connection;

    ResponseHandler(Connection connection) {
      this.connection = connection;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      connection.onResponse(response);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
