package dev.meridian.proxy.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.TestBackend.Reply;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TestBackend#close()} stands for a killed backend: every connection it accepted must be closed
 * when it returns, also one accepted while it was closing. One left open (and never read: its event
 * loop has stopped) holds the request sent on it unanswered; a proxy waits on it for its
 * response-headers timeout, and FailoverUnderLoadTest saw a GET time out.
 */
class TestBackendCloseTest {
  private final CountDownLatch firstHeld = new CountDownLatch(1);
  private final CountDownLatch releaseFirst = new CountDownLatch(1);
  private final CountDownLatch secondHeld = new CountDownLatch(1);
  private final CountDownLatch releaseSecond = new CountDownLatch(1);
  private TestBackend backend;

  @AfterEach
  void release() {
    releaseFirst.countDown();
    releaseSecond.countDown();
    if (backend != null) {
      backend.close();
    }
  }

  /**
   * The backend's only event loop is held, on purpose, inside the responder (twice), so that a new
   * connection is accepted by the same pass of the loop that runs after close() began: the order a
   * close racing an accept would take by chance.
   */
  @Test
  void closesAConnectionAcceptedWhileClosing() throws Exception {
    backend = TestBackend.start(request -> {
      if (request.uri().equals("/hold-1")) {
        firstHeld.countDown();
        awaitQuietly(releaseFirst);
      } else if (request.uri().equals("/hold-2")) {
        secondHeld.countDown();
        awaitQuietly(releaseSecond);
      }
      return Reply.ok("ok");
    });
    try (Socket held = new Socket("127.0.0.1", backend.port());
        Socket late = new Socket()) {
      OutputStream out = held.getOutputStream();
      out.write(get("/hold-1"));
      out.flush();
      assertThat(firstHeld.await(10, TimeUnit.SECONDS)).as("the loop holds /hold-1").isTrue();
      // While the loop is held: the second request becomes readable, then a new connection waits to
      // be accepted; the loop's next pass handles both, in that order.
      out.write(get("/hold-2"));
      out.flush();
      late.connect(backend.address());
      late.getOutputStream().write(get("/late"));
      late.getOutputStream().flush();
      releaseFirst.countDown();
      assertThat(secondHeld.await(10, TimeUnit.SECONDS)).as("the loop holds /hold-2").isTrue();

      Thread closer = new Thread(backend::close, "test-backend-closer");
      closer.start();
      // close() took its view of the connections and waits on the held loop.
      await().atMost(Duration.ofSeconds(10)).until(() -> closer.getState() == Thread.State.WAITING
          || closer.getState() == Thread.State.TIMED_WAITING);
      releaseSecond.countDown(); // the loop accepts the late connection, then runs the close
      closer.join(TimeUnit.SECONDS.toMillis(10));
      assertThat(closer.isAlive()).as("close() returned").isFalse();

      assertThat(endOfStream(late, Duration.ofSeconds(5)))
          .as("the connection accepted while closing was closed (EOF or reset), not left open and unread")
          .isTrue();
    }
  }

  private static byte[] get(String path) {
    return ("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n").getBytes(US_ASCII);
  }

  /** Reads until the peer closes (true) or the deadline passes with the connection still open (false). */
  private static boolean endOfStream(Socket socket, Duration deadline) throws IOException {
    socket.setSoTimeout((int) deadline.toMillis());
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[4096];
    try {
      while (in.read(buffer) >= 0) {
        // a reply, if the backend answered before closing: read on to the close
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true; // reset: closed as well
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
