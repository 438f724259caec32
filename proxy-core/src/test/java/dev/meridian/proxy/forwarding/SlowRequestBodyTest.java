package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.testing.RawHttp2Client;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A request body that trickles in (a slow-POST attack) is refused 408 once it has had the
 * request-head timeout to arrive and averages less than {@code limits.min-request-body-rate}; a body
 * at an honest pace, however long, is forwarded whole.
 */
class SlowRequestBodyTest {
  /** An HTTP/2 header block: POST /upload, host app.test (static-table method and scheme, literals). */
  private static final byte[] POST_UPLOAD = {(byte) 0x83, (byte) 0x86, 0x04, 7, '/', 'u', 'p', 'l', 'o', 'a', 'd',
      0x01, 8, 'a', 'p', 'p', '.', 't', 'e', 's', 't'};
  private final ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
  private TestBackend backend;
  private ForwardingProxy proxy;

  @BeforeEach
  void start() throws Exception {
    backend = TestBackend.start(TestBackend.echo());
    proxy = ForwardingProxy.to(backend.address())
        .set("limits { request-head-timeout = 300ms, min-request-body-rate = 2KiB }").start();
  }

  @AfterEach
  void stop() {
    pacer.shutdownNow();
    proxy.close();
    backend.close();
  }

  /** The header block of a gRPC call: POST /upload with content-type application/grpc. */
  private static byte[] grpcPost() {
    byte[] block = java.util.Arrays.copyOf(POST_UPLOAD, POST_UPLOAD.length + 1 + 1 + 12 + 1 + 16);
    java.nio.ByteBuffer.wrap(block, POST_UPLOAD.length, block.length - POST_UPLOAD.length)
        .put((byte) 0x00).put((byte) 12).put("content-type".getBytes(StandardCharsets.US_ASCII))
        .put((byte) 16).put("application/grpc".getBytes(StandardCharsets.US_ASCII));
    return block;
  }

  /** Sends a POST of {@code length} bytes, {@code chunk} bytes every 50 ms, and returns the client. */
  private RawHttpClient trickle(int length, int chunk) throws Exception {
    RawHttpClient client = proxy.connect();
    client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: " + length + "\r\n\r\n");
    byte[] bytes = "x".repeat(chunk).getBytes(StandardCharsets.US_ASCII);
    int[] sent = {0};
    pacer.scheduleAtFixedRate(() -> {
      try {
        if (sent[0] < length) {
          int n = Math.min(chunk, length - sent[0]);
          client.output().write(bytes, 0, n);
          client.output().flush();
          sent[0] += n;
        }
      } catch (java.io.IOException closed) {
        throw new IllegalStateException(closed); // ends the schedule: the proxy closed the connection
      }
    }, 0, 50, TimeUnit.MILLISECONDS);
    return client;
  }

  @Test
  void aBodyThatTricklesInIsRefused408AndTheConnectionCloses() throws Exception {
    try (RawHttpClient client = trickle(100_000, 10)) { // 200 bytes a second
      long started = System.nanoTime();
      RawHttpClient.RawResponse answer = client.readResponse();
      long ms = (System.nanoTime() - started) / 1_000_000;
      assertThat(answer.status()).isEqualTo(408);
      assertThat(answer.bodyText()).contains("min-request-body-rate");
      assertThat(ms).as("refused between one and two request-head timeouts after the head").isBetween(250L, 3000L);
      assertThat(client.isClosedByPeer(java.time.Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void aBodyAtAnHonestPaceIsForwardedWhole() throws Exception {
    try (RawHttpClient client = trickle(40_000, 2_000)) { // 40 KB/s for a second, past two checks
      RawHttpClient.RawResponse answer = client.readResponse();
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.body()).hasSize(40_000);
    }
  }

  @Test
  void anHttp2UploadThatTricklesInIsRefused408OnItsStreamAndTheConnectionGoesOn() throws Exception {
    try (RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      h2.send(RawHttp2Client.HEADERS, RawHttp2Client.END_HEADERS, 1, POST_UPLOAD);
      byte[] ten = "x".repeat(10).getBytes(StandardCharsets.US_ASCII);
      var trickle = pacer.scheduleAtFixedRate(() -> {
        try {
          h2.send(RawHttp2Client.DATA, 0, 1, ten); // 200 bytes a second
        } catch (java.io.IOException closed) {
          throw new IllegalStateException(closed);
        }
      }, 0, 50, TimeUnit.MILLISECONDS);
      long started = System.nanoTime();
      h2.readUntil(c -> c.status(1) != null);
      long ms = (System.nanoTime() - started) / 1_000_000;
      trickle.cancel(false);
      assertThat(h2.status(1)).isEqualTo("408");
      assertThat(ms).as("refused between one and two request-head timeouts after the head").isBetween(250L, 3000L);

      h2.get(3, "/after");
      h2.readUntil(c -> c.ended(3));
      assertThat(h2.status(3)).as("the connection's other streams go on").isEqualTo("200");
      assertThat(h2.goAwayError()).isNull();
    }
  }

  /**
   * A gRPC client stream whose messages come seconds apart while the server has not answered yet is
   * not a slow POST: it is forwarded whole, however slow its average (it ended with 408 after 30 s).
   */
  @Test
  void aGrpcClientStreamAtItsOwnPaceIsNotRefused() throws Exception {
    try (RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      h2.send(RawHttp2Client.HEADERS, RawHttp2Client.END_HEADERS, 1, grpcPost());
      byte[] message = {0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'}; // one gRPC message: 200 bytes a second
      int[] sent = {0};
      pacer.scheduleAtFixedRate(() -> {
        try {
          if (sent[0] < 30) {
            sent[0]++;
            h2.send(RawHttp2Client.DATA, sent[0] == 30 ? RawHttp2Client.END_STREAM : 0, 1, message);
          }
        } catch (java.io.IOException closed) {
          throw new IllegalStateException(closed);
        }
      }, 0, 50, TimeUnit.MILLISECONDS); // 1.5 s: five request-head timeouts, at a tenth of the minimum
      h2.readUntil(c -> c.ended(1) || c.resetError(1) != null);
      assertThat(h2.status(1)).isEqualTo("200");
      assertThat(h2.dataBytes(1)).as("the whole stream reached the backend").isEqualTo(300);
    }
  }

  /**
   * A gRPC client stream that sends nothing at all for timeouts.client-idle is refused on its stream
   * (DEADLINE_EXCEEDED in gRPC's words): the exemption from the rate is no licence to hold a backend
   * connection for ever.
   */
  @Test
  void aGrpcClientStreamThatGoesSilentForClientIdleIsRefused() throws Exception {
    try (ForwardingProxy quick = ForwardingProxy.to(backend.address())
        .set("limits { request-head-timeout = 300ms, min-request-body-rate = 2KiB }, timeouts { client-idle = 1s }").start();
        RawHttp2Client h2 = new RawHttp2Client(quick.port()).lenient()) {
      h2.send(RawHttp2Client.HEADERS, RawHttp2Client.END_HEADERS, 1, grpcPost());
      h2.send(RawHttp2Client.DATA, 0, 1, new byte[] {0, 0, 0, 0, 1, 'x'});
      long started = System.nanoTime();
      h2.readUntil(c -> c.status(1) != null);
      long ms = (System.nanoTime() - started) / 1_000_000;
      assertThat(h2.status(1)).as("a gRPC answer").isEqualTo("200");
      assertThat(ms).as("after client-idle of silence, within one head timeout more").isBetween(900L, 5000L);
    }
  }

  @Test
  void anHttp2UploadAtAnHonestPaceIsForwardedWhole() throws Exception {
    try (RawHttp2Client h2 = new RawHttp2Client(proxy.port()).lenient()) {
      h2.send(RawHttp2Client.HEADERS, RawHttp2Client.END_HEADERS, 1, POST_UPLOAD);
      byte[] piece = "y".repeat(2_000).getBytes(StandardCharsets.US_ASCII);
      int[] sent = {0};
      pacer.scheduleAtFixedRate(() -> {
        try {
          if (sent[0] < 20) {
            sent[0]++;
            h2.send(RawHttp2Client.DATA, sent[0] == 20 ? RawHttp2Client.END_STREAM : 0, 1, piece); // 40 KB/s
          }
        } catch (java.io.IOException closed) {
          throw new IllegalStateException(closed);
        }
      }, 0, 50, TimeUnit.MILLISECONDS);
      h2.readUntil(c -> c.ended(1));
      assertThat(h2.status(1)).isEqualTo("200");
      assertThat(h2.dataBytes(1)).isEqualTo(40_000);
    }
  }

  /**
   * A client that sent Expect: 100-continue holds its body until the backend's 100: a backend slow to
   * send it is no slow POST of the client's (it was answered 408, blaming the client, and the backend
   * then saw its peer leave), and the body's rate is timed from the 100 on.
   */
  @Test
  void aClientWaitingForTheBackends100IsNoSlowPost() throws Exception {
    java.util.concurrent.CountDownLatch send100 = new java.util.concurrent.CountDownLatch(1);
    try (dev.meridian.proxy.testing.RawTcpBackend late = dev.meridian.proxy.testing.RawTcpBackend.start(socket -> {
          java.io.InputStream in = socket.getInputStream();
          dev.meridian.proxy.testing.RawTcpBackend.readHead(in);
          send100.await(20, TimeUnit.SECONDS);
          java.io.OutputStream out = socket.getOutputStream();
          out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          byte[] body = in.readNBytes(10);
          out.write(("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + new String(body, StandardCharsets.US_ASCII))
              .getBytes(StandardCharsets.US_ASCII));
          out.flush();
        });
        ForwardingProxy waiting = ForwardingProxy.to(late.address())
            .set("limits { request-head-timeout = 300ms, min-request-body-rate = 2KiB }").start();
        RawHttpClient client = waiting.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n");
      client.socket().setSoTimeout(1500); // five request-head timeouts: a 408 would have come by then
      assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> client.input().read()))
          .as("nothing (no 408) while the backend holds its 100 back")
          .isInstanceOf(java.net.SocketTimeoutException.class);
      client.socket().setSoTimeout(10_000);
      send100.countDown();
      assertThat(client.readResponse().status()).isEqualTo(100);
      client.send("0123456789");
      RawHttpClient.RawResponse answer = client.readResponse();
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.bodyText()).isEqualTo("0123456789");
    }
  }
}
