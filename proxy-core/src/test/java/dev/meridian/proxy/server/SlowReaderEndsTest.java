package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.testing.RawTcpBackend;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that reads slowly still gets the whole of an answer whose exchange has ended (the answer
 * went to the backend's end, only the client has not taken it all yet) when its connection closes
 * for another reason: the client shuts its side (TCP FIN) after its request, or the server drains
 * (SIGTERM, a reload that removes its listener). The close waits for the answer to be sent; a close
 * at once dropped what Netty still held for the socket.
 */
class SlowReaderEndsTest {
  private static final int BODY = 3_000_000;

  @TempDir
  Path dir;

  /** A backend that answers every GET with {@link #BODY} bytes. */
  private static RawTcpBackend big() throws Exception {
    byte[] body = new byte[BODY];
    java.util.Arrays.fill(body, (byte) 'b');
    return RawTcpBackend.start(socket -> {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      while (true) {
        RawTcpBackend.readHead(in);
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + BODY + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
      }
    });
  }

  private ProxyFixture start(int backendPort) throws Exception {
    return ProxyFixture.start(List.of(backendPort), """
        meridian.access-log { enabled = true, output = "%s" }
        meridian.timeouts.client-idle = 30s
        """.formatted(dir.resolve("access.log")));
  }

  /**
   * A client with a small receive buffer that asks for the big answer and reads nothing until the
   * exchange ended on Meridian's side (its access log line), so part of the answer waits in Meridian.
   * Returns false when the exchange could not end (the kernel's buffers here hold less of the answer
   * than this test needs; on this project's machines they hold all but the part Meridian keeps).
   */
  private boolean askAndWaitForTheExchangeToEnd(Socket client, int port) throws Exception {
    client.setReceiveBufferSize(4096);
    client.connect(new InetSocketAddress("127.0.0.1", port));
    client.setSoTimeout(20_000);
    client.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    Path log = dir.resolve("access.log");
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && !Files.readAllLines(log).isEmpty());
      return true;
    } catch (org.awaitility.core.ConditionTimeoutException answerLargerThanTheKernelTakes) {
      return false;
    }
  }

  /** Reads the rest of the connection and returns the body's length (the bytes after the head). */
  private static int bodyLength(InputStream in) throws Exception {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    in.transferTo(all);
    String text = all.toString(StandardCharsets.ISO_8859_1);
    int headEnd = text.indexOf("\r\n\r\n");
    assertThat(headEnd).as("a response head arrived").isPositive();
    return text.length() - headEnd - 4;
  }

  @Test
  void aClientThatHalfClosesAfterItsAnswerEndedGetsAllOfIt() throws Exception {
    try (RawTcpBackend backend = big(); ProxyFixture proxy = start(backend.port()); Socket client = new Socket()) {
      assumeTrue(askAndWaitForTheExchangeToEnd(client, proxy.port()), "the kernel holds too little of the answer");
      client.shutdownOutput();
      assertThat(bodyLength(client.getInputStream())).as("every byte, then the close").isEqualTo(BODY);
    }
  }

  @Test
  void aDrainWaitsForASlowReadersAnswerToBeSent() throws Exception {
    try (RawTcpBackend backend = big(); ProxyFixture proxy = start(backend.port()); Socket client = new Socket()) {
      assumeTrue(askAndWaitForTheExchangeToEnd(client, proxy.port()), "the kernel holds too little of the answer");
      CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> proxy.instance().stop(Duration.ofSeconds(20)));
      // The client reads nothing past the drain's grace (1 s), when connections between requests
      // close: this one must stay open while its answer is unsent.
      await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(4)).until(() -> !stopped.isDone());
      assertThat(bodyLength(client.getInputStream())).as("every byte before the drain closed it").isEqualTo(BODY);
      stopped.get(20, TimeUnit.SECONDS);
    }
  }

  /**
   * A cleartext client that half-closes right after its request (nc -N) while a large answer is on
   * its way reads all of it: on epoll the connection's output was shut mid-answer (Netty 4.2.18 took
   * the socket out of epoll once it asked for no event, see HalfCloseSafeEpoll).
   */
  @Test
  void aClientThatHalfClosesWhileItsAnswerStreamsGetsAllOfIt() throws Exception {
    int size = 5_000_000;
    try (RawTcpBackend backend = RawTcpBackend.start(socket -> {
          RawTcpBackend.readHead(socket.getInputStream());
          OutputStream out = socket.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          byte[] chunk = new byte[64 * 1024];
          for (int sent = 0; sent < size; sent += chunk.length) {
            out.write(chunk, 0, Math.min(chunk.length, size - sent));
          }
          out.flush();
        });
        ProxyFixture proxy = start(backend.port());
        Socket client = new Socket()) {
      client.setReceiveBufferSize(4096);
      client.connect(new InetSocketAddress("127.0.0.1", proxy.port()));
      client.setSoTimeout(20_000);
      client.getOutputStream().write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      client.shutdownOutput();
      assertThat(bodyLength(client.getInputStream())).as("every byte, then the close").isEqualTo(size);
    }
  }
}
