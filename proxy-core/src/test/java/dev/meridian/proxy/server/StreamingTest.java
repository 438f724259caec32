package dev.meridian.proxy.server;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawTcpBackend;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 100 MiB bodies stream through the proxy in both directions to a peer that reads slower than the
 * other side writes, arrive intact (SHA-256), and the proxy never holds more than a few MiB of them.
 *
 * <p>The slow side paces itself to {@link #SLOW_BYTES_PER_SECOND}; that is throttling, not waiting. The
 * client and backends here use plain sockets, so the Netty allocator memory sampled during a transfer is
 * the proxy's.
 */
class StreamingTest {
  private static final long BODY_BYTES = 100L * 1024 * 1024;
  private static final int STEP = 64 * 1024;
  /** Pace of the slow reader: far below loopback and proxy throughput, so back-pressure must hold the rest. */
  private static final long SLOW_BYTES_PER_SECOND = 40L * 1024 * 1024;
  /** Allocator memory the proxy may add during a transfer; buffering the body would need 100 MiB. */
  private static final long MAX_BUFFERED_BYTES = 16L * 1024 * 1024;
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(40);

  @Test
  @Timeout(60)
  void uploadOf100MiBReachesASlowBackendIntactWithBoundedProxyMemory() throws Exception {
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          InputStream in = socket.getInputStream();
          String head = RawTcpBackend.readHead(in);
          String digest = readBodyPaced(in, head);
          OutputStream out = socket.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + digest.length() + "\r\n\r\n" + digest)
              .getBytes(US_ASCII));
          out.flush();
          awaitPeerClose(in);
        });
        ProxyFixture proxy = ProxyFixture.start(backend.port());
        AllocatorSampler memory = AllocatorSampler.start();
        Socket client = connect(proxy)) {
      ExecutorService writer = Executors.newSingleThreadExecutor();
      try {
        CompletableFuture<String> sent = CompletableFuture.supplyAsync(() -> {
          try {
            OutputStream out = client.getOutputStream();
            out.write(("PUT /upload HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Length: " + BODY_BYTES + "\r\n\r\n").getBytes(US_ASCII));
            return writeBody(out);
          } catch (IOException e) {
            throw new IllegalStateException("writing the upload failed", e);
          }
        }, writer);

        InputStream in = client.getInputStream();
        String head = RawTcpBackend.readHead(in);
        String received = new String(in.readNBytes(64), US_ASCII);

        assertThat(head).startsWith("HTTP/1.1 200 ");
        assertThat(received).as("SHA-256 of the body the backend received")
            .isEqualTo(sent.get(5, TimeUnit.SECONDS));
        assertThat(backend.errors()).isEmpty();
        memory.assertGrowthBelow(MAX_BUFFERED_BYTES);
      } finally {
        writer.shutdownNow(); // a writer still blocked is released when the client socket closes next
      }
    }
  }

  @Test
  @Timeout(60)
  void downloadOf100MiBReachesASlowClientIntactWithBoundedProxyMemory() throws Exception {
    CompletableFuture<String> sent = new CompletableFuture<>();
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          InputStream in = socket.getInputStream();
          RawTcpBackend.readHead(in);
          OutputStream out = socket.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
              + BODY_BYTES + "\r\n\r\n").getBytes(US_ASCII));
          sent.complete(writeBody(out));
          awaitPeerClose(in);
        });
        ProxyFixture proxy = ProxyFixture.start(backend.port());
        AllocatorSampler memory = AllocatorSampler.start();
        Socket client = connect(proxy)) {
      client.getOutputStream().write("GET /download HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(US_ASCII));
      InputStream in = client.getInputStream();
      String head = RawTcpBackend.readHead(in);

      assertThat(head).startsWith("HTTP/1.1 200 ");
      assertThat(headerValue(head, "content-length")).isEqualTo(Long.toString(BODY_BYTES));

      String received = readBodyPaced(in, head);

      assertThat(received).as("SHA-256 of the body the client received")
          .isEqualTo(sent.get(5, TimeUnit.SECONDS));
      assertThat(backend.errors()).isEmpty();
      memory.assertGrowthBelow(MAX_BUFFERED_BYTES);
    }
  }

  private static Socket connect(ProxyFixture proxy) throws IOException {
    Socket socket = new Socket();
    socket.connect(proxy.address(), 2_000);
    socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
    return socket;
  }

  /** Writes the deterministic body of {@link #BODY_BYTES} as fast as the peer takes it; returns its SHA-256. */
  private static String writeBody(OutputStream out) throws IOException {
    MessageDigest sha = sha256();
    Pattern pattern = new Pattern();
    byte[] step = new byte[STEP];
    for (long written = 0; written < BODY_BYTES; written += STEP) {
      pattern.fill(step);
      sha.update(step);
      out.write(step);
    }
    out.flush();
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * Reads a Content-Length or chunked body at {@link #SLOW_BYTES_PER_SECOND} in {@link #STEP} reads;
   * returns its SHA-256.
   */
  private static String readBodyPaced(InputStream in, String head) throws IOException {
    MessageDigest sha = sha256();
    Pacer pacer = new Pacer();
    String contentLength = headerValue(head, "content-length");
    String encoding = headerValue(head, "transfer-encoding");
    if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
      while (true) {
        String sizeLine = readLine(in);
        int semicolon = sizeLine.indexOf(';');
        long size = Long.parseLong((semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim(), 16);
        if (size == 0) {
          while (!readLine(in).isEmpty()) {
            // trailer field
          }
          break;
        }
        readPaced(in, size, sha, pacer);
        readLine(in);
      }
    } else if (contentLength != null) {
      readPaced(in, Long.parseLong(contentLength), sha, pacer);
    } else {
      throw new IOException("body is neither Content-Length nor chunked:\n" + head);
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static void readPaced(InputStream in, long length, MessageDigest sha, Pacer pacer) throws IOException {
    byte[] step = new byte[STEP];
    long remaining = length;
    while (remaining > 0) {
      int n = in.read(step, 0, (int) Math.min(step.length, remaining));
      if (n < 0) {
        throw new EOFException("stream ended with " + remaining + " of " + length + " body bytes unread");
      }
      sha.update(step, 0, n);
      remaining -= n;
      pacer.account(n);
    }
  }

  /** Holds a backend connection open until the proxy closes it, so the close never races the response. */
  private static void awaitPeerClose(InputStream in) throws IOException {
    try {
      while (in.read() >= 0) {
        // a further request would be a test bug; ignore it
      }
    } catch (IOException closedBySocketClose) {
      // the backend or the proxy closed the connection
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new EOFException("stream ended inside a line: " + line);
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }

  /** The first value of header {@code name} in a raw head, or null. */
  private static String headerValue(String head, String name) {
    for (String line : head.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    return null;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A deterministic byte stream (xorshift64), the same on every run. */
  private static final class Pattern {
    private long state = 0x9E3779B97F4A7C15L;

    /** Fills {@code bytes}, whose length is a multiple of 8, with the next bytes of the stream. */
    void fill(byte[] bytes) {
      for (int i = 0; i < bytes.length; i += 8) {
        state ^= state << 13;
        state ^= state >>> 7;
        state ^= state << 17;
        long v = state;
        for (int j = 0; j < 8; j++) {
          bytes[i + j] = (byte) v;
          v >>>= 8;
        }
      }
    }
  }

  /** Throttles a reader to {@link #SLOW_BYTES_PER_SECOND} by parking until each byte count is due. */
  private static final class Pacer {
    private final long start = System.nanoTime();
    private long bytes;

    void account(int n) {
      bytes += n;
      long due = start + bytes * 1_000_000_000L / SLOW_BYTES_PER_SECOND;
      long early = due - System.nanoTime();
      if (early > 0) {
        LockSupport.parkNanos(early);
      }
    }
  }

  /**
   * Samples Netty's memory every few milliseconds while open: the default allocator's used direct and
   * heap memory (what the proxy's channels allocate from) and, where Netty tracks it, all of Netty's
   * direct memory; keeps the largest growth over the values when sampling started.
   */
  private static final class AllocatorSampler implements AutoCloseable {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "allocator-sampler");
      t.setDaemon(true);
      return t;
    });
    private final long allocatorBaseline = allocatorUsed();
    private final long nettyDirectBaseline = PlatformDependent.usedDirectMemory();
    private final AtomicLong maxAllocatorGrowth = new AtomicLong();
    private final AtomicLong maxNettyDirectGrowth = new AtomicLong();
    private final AtomicLong samples = new AtomicLong();

    static AllocatorSampler start() {
      AllocatorSampler sampler = new AllocatorSampler();
      sampler.timer.scheduleAtFixedRate(sampler::sample, 0, 5, TimeUnit.MILLISECONDS);
      return sampler;
    }

    private static long allocatorUsed() {
      ByteBufAllocatorMetric metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
      return metric.usedDirectMemory() + metric.usedHeapMemory();
    }

    private void sample() {
      maxAllocatorGrowth.accumulateAndGet(allocatorUsed() - allocatorBaseline, Math::max);
      if (nettyDirectBaseline >= 0) {
        maxNettyDirectGrowth.accumulateAndGet(PlatformDependent.usedDirectMemory() - nettyDirectBaseline,
            Math::max);
      }
      samples.incrementAndGet();
    }

    void assertGrowthBelow(long limit) {
      sample();
      assertThat(samples.get()).as("memory samples taken during the transfer").isGreaterThan(10);
      assertThat(maxAllocatorGrowth.get())
          .as("peak growth of %s used memory (baseline %d bytes)", ByteBufAllocator.DEFAULT.getClass()
              .getSimpleName(), allocatorBaseline)
          .isLessThan(limit);
      assertThat(maxNettyDirectGrowth.get())
          .as("peak growth of Netty's direct memory (baseline %d bytes; -1: not tracked)", nettyDirectBaseline)
          .isLessThan(limit);
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }
}
