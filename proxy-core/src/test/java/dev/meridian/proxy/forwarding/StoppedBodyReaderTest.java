package dev.meridian.proxy.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.testing.Http2TestBackend;
import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.RawTcpBackend;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend that reads a request's head and then takes none of its body (a hung application, a full
 * accept queue) is answered 504 once nothing moved for an idle timeout: over HTTP/1.1 and HTTP/2
 * alike, and not blamed on the client (408) whose body Meridian stopped reading for it.
 */
class StoppedBodyReaderTest {
  /** The body is far larger than the socket buffers between Meridian and the backend can hold. */
  private static final long BODY = 256L << 20;

  private final CountDownLatch released = new CountDownLatch(1);

  @AfterEach
  void release() {
    released.countDown();
  }

  /** Reads the request head, then nothing, until the test ends. */
  private RawTcpBackend stoppedReader() throws IOException {
    return RawTcpBackend.start(socket -> {
      RawTcpBackend.readHead(socket.getInputStream());
      released.await(60, TimeUnit.SECONDS);
    });
  }

  /** Sends a large upload's head, then its body from a thread of its own until the proxy stops taking it. */
  private static void upload(RawHttpClient client) throws IOException {
    upload(client, "/upload");
  }

  /** {@link #upload(RawHttpClient)} to this path. */
  private static void upload(RawHttpClient client, String path) throws IOException {
    client.send("PUT " + path + " HTTP/1.1\r\nHost: app.test\r\nContent-Length: " + BODY + "\r\n\r\n");
    Thread writer = new Thread(() -> {
      byte[] chunk = new byte[64 * 1024];
      try {
        OutputStream out = client.socket().getOutputStream();
        for (long sent = 0; sent < BODY; sent += chunk.length) {
          out.write(chunk);
        }
      } catch (IOException closedByTheProxy) {
        // expected: the proxy answers and closes before the body ends
      }
    }, "stopped-body-uploader");
    writer.setDaemon(true);
    writer.start();
  }

  @Test
  void http1UploadIsAnswered504AfterTheUpstreamIdleTimeout() throws Exception {
    try (RawTcpBackend backend = stoppedReader();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("timeouts.upstream-idle = 1s").start();
        RawHttpClient client = proxy.connect()) {
      upload(client);
      RawHttpClient.RawResponse response = client.readResponse();

      assertThat(response.status()).isEqualTo(504);
      assertThat(response.header("connection")).isEqualTo("close");
      await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().inFlight() == 0);
    }
  }

  /**
   * The client's idle timeout passing first does not blame the client (408): Meridian stopped reading
   * it for the backend, and the upstream idle timeout, which sees the backend's progress, decides.
   */
  @Test
  void http1UploadHeldBackForTheBackendIsNot408WhenTheClientIdleTimeoutPassesFirst() throws Exception {
    try (RawTcpBackend backend = stoppedReader();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("timeouts.client-idle = 1s")
            .set("timeouts.upstream-idle = 3s").start();
        RawHttpClient client = proxy.connect()) {
      upload(client);

      assertThat(client.readResponse().status()).isEqualTo(504);
    }
  }

  /**
   * An HTTP/2 backend that never opens its stream's flow-control window again after the first
   * 64 KiB stops taking the body the same way; its stream's idle timeout answers 504.
   */
  @Test
  void uploadToAnHttp2BackendThatNeverOpensItsWindowIsAnswered504() throws Exception {
    try (Http2TestBackend backend = Http2TestBackend.start(null, 100);
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).groupOption("protocol = h2c")
            .set("timeouts.upstream-idle = 1s").start();
        RawHttpClient client = proxy.connect()) {
      upload(client, "/hold-window");

      assertThat(client.readResponse().status()).isEqualTo(504);
      await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().inFlight() == 0);
      await("the stream was cancelled").atMost(Duration.ofSeconds(5)).until(() -> backend.resetsReceived() == 1);
    }
  }

  @Test
  void http2UploadIsAnswered504(@TempDir Path dir) throws Exception {
    assumeTrue(Http2CleartextTest.installed("nghttp"), "nghttp (nghttp2-client) is installed by .ci/run");
    Path body = dir.resolve("body.bin");
    try (var file = Files.newOutputStream(body)) {
      byte[] chunk = new byte[1 << 20];
      for (int i = 0; i < 64; i++) {
        file.write(chunk);
      }
    }
    try (RawTcpBackend backend = stoppedReader();
        ForwardingProxy proxy = ForwardingProxy.to(backend.address()).set("timeouts.upstream-idle = 1s").start()) {
      Process nghttp = new ProcessBuilder("nghttp", "-v", "-t", "20", "-d", body.toString(), proxy.url("/upload"))
          .redirectErrorStream(true).start();
      byte[] out = nghttp.getInputStream().readAllBytes();
      assertThat(nghttp.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String text = new String(out, StandardCharsets.UTF_8);

      assertThat(text).as("the stream's answer").contains(":status: 504");
      await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().inFlight() == 0);
    }
  }
}
