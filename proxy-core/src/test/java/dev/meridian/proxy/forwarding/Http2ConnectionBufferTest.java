package dev.meridian.proxy.forwarding;

import static dev.meridian.proxy.testing.RawHttp2Client.setting;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawTcpBackend;
import dev.meridian.proxy.testing.TestBackend;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What an HTTP/2 client that keeps its stream windows closed can make Meridian hold: one backend
 * read per stream at most (the relay stops reading a backend as soon as a write leaves the stream
 * unwritable, not at the end of a read loop of up to 16 reads), and no more than
 * {@code limits.http2-connection-buffer} per connection before its streams' backends stop being
 * read. A response not yet begun is still read, for its head (a client may wait for the head
 * before it opens the window, and a backend held back would be blamed for the response-headers
 * timeout). Nothing is lost: once the client opens its windows every stream gets its whole response,
 * those whose backends waited for the budget included.
 */
class Http2ConnectionBufferTest {
  private static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
  private static final int STREAMS = 100;

  private TestBackend backend;
  private RawTcpBackend rawBackend;
  private ForwardingProxy proxy;

  @AfterEach
  void stop() throws Exception {
    proxy.close();
    if (backend != null) {
      backend.close();
    }
    if (rawBackend != null) {
      rawBackend.close();
    }
  }

  private void startProxy(InetSocketAddress backendAddress, String buffer) throws Exception {
    proxy = ForwardingProxy.to(backendAddress).set("limits.http2-connection-buffer = " + buffer).start();
  }

  /**
   * A backend that writes its responses from the heap with blocking sockets, so that the direct
   * memory in use is the proxy's (a Netty backend would copy each response into direct memory).
   */
  private static RawTcpBackend heapBackend(int responseBytes) throws Exception {
    byte[] piece = "x".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
    return RawTcpBackend.start(socket -> {
      OutputStream out = socket.getOutputStream();
      while (true) {
        RawTcpBackend.readHead(socket.getInputStream());
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + responseBytes + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        for (int left = responseBytes; left > 0; left -= piece.length) {
          out.write(piece, 0, Math.min(left, piece.length));
        }
      }
    });
  }

  /** A client that opens its connection window wide and keeps every stream window at 0. */
  private RawHttp2Client closedWindowClient() throws Exception {
    RawHttp2Client client = new RawHttp2Client(proxy.port(), setting(SETTINGS_INITIAL_WINDOW_SIZE, 0));
    client.windowUpdate(0, 1 << 30);
    for (int i = 0; i < STREAMS; i++) {
      client.get(1 + 2 * i, "/big");
    }
    return client;
  }

  private static int heads(RawHttp2Client client) {
    int heads = 0;
    for (int i = 0; i < STREAMS; i++) {
      heads += client.status(1 + 2 * i) == null ? 0 : 1;
    }
    return heads;
  }

  /** Opens every stream's window for its whole response and reads them all. */
  private static void readEverything(RawHttp2Client client, int responseBytes) throws Exception {
    for (int i = 0; i < STREAMS; i++) {
      client.windowUpdate(1 + 2 * i, responseBytes);
    }
    client.readUntil(c -> {
      for (int i = 0; i < STREAMS; i++) {
        if (!c.ended(1 + 2 * i)) {
          return false;
        }
      }
      return true;
    });
    for (int i = 0; i < STREAMS; i++) {
      assertThat(client.status(1 + 2 * i)).isEqualTo("200");
      assertThat(client.dataBytes(1 + 2 * i)).as("stream %d", 1 + 2 * i).isEqualTo(responseBytes);
    }
  }

  /**
   * A head that comes in two reads (an interim 103, then the final answer) reaches a client whose
   * stream window is shut: the backend is read on after the interim response, whose relay left the
   * stream unwritable (a closed window).
   */
  @Test
  void aFinalHeadAfterAnInterimOneReachesAClosedWindow() throws Exception {
    rawBackend = RawTcpBackend.start(socket -> {
      RawTcpBackend.readHead(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      out.write("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // The final head in a read of its own: the backend answers a moment later, as a real one would.
      java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(300).toNanos());
      out.write("HTTP/1.1 204 No Content\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      socket.getInputStream().read(); // until the proxy closes or pools the connection
    });
    startProxy(rawBackend.address(), "1MiB");
    try (RawHttp2Client client = new RawHttp2Client(proxy.port(), setting(SETTINGS_INITIAL_WINDOW_SIZE, 0))) {
      client.get(1, "/");
      client.readUntil(c -> c.ended(1));
      assertThat(client.ended(1)).isTrue();
    }
  }

  private double buffersFull() {
    return proxy.metrics().registry().find("meridian.http2.connection.buffer.full").counter().count();
  }

  private static long directMemoryInUse() {
    return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
  }

  @Test
  void streamsWithClosedWindowsHoldOneBackendReadEach() throws Exception {
    int responseBytes = 1_000_000;
    rawBackend = heapBackend(responseBytes);
    startProxy(rawBackend.address(), "64MiB"); // the per-stream bound alone: the budget is not reached
    long before = directMemoryInUse();
    try (RawHttp2Client client = closedWindowClient()) {
      client.readUntil(c -> heads(c) == STREAMS);
      // Each backend keeps sending (4 MB each, 400 MB in all): for two seconds, Meridian must not
      // read on. Before the relay stopped at the write, each stream read up to 1 MiB: 22 MiB here.
      long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      long most = 0;
      while (System.nanoTime() < until) {
        most = Math.max(most, directMemoryInUse() - before);
        client.readAvailable();
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(50).toNanos()); // sampling, not waiting
      }
      assertThat(most).as("direct memory taken while 100 streams wait").isLessThan(8L << 20);
      assertThat(client.dataBytes(1)).as("nothing went past the closed window").isZero();
      client.windowUpdate(1, responseBytes);
      client.readUntil(c -> c.ended(1));
      assertThat(client.dataBytes(1)).isEqualTo(responseBytes);
    }
  }

  @Test
  void streamsOverTheBudgetAreServedOnceTheClientReads() throws Exception {
    int responseBytes = 200_000;
    backend = TestBackend.start(request -> TestBackend.Reply.ok("x".repeat(responseBytes)));
    startProxy(backend.address(), "64KiB"); // about 30 streams' first reads
    try (RawHttp2Client client = closedWindowClient()) {
      // 100 first reads of 2 KiB or more: the budget is reached, yet every head arrives.
      client.readUntil(c -> heads(c) == STREAMS);
      assertThat(buffersFull()).isPositive();
      readEverything(client, responseBytes);
    }
    assertThat(backend.requests()).hasSize(STREAMS);
  }
}
