package dev.meridian.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.RawHttpClient;
import dev.meridian.proxy.testing.TestBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restart without loss of README: with {@code server.reuse-port = true} a second {@code meridian run}
 * binds the port the first one serves, the first drains on SIGTERM, and a client load running through the
 * whole handover (keep-alive connections and a new connection per request) loses no request (but for
 * the kernel's gap the README names: a new connection left in the old socket's accept queue as it
 * closes is reset, unless {@code net.ipv4.tcp_migrate_req = 1}). Without it,
 * the second process is refused the port with the usual one-line message.
 *
 * <p>Both Meridians are real processes; every request they answer is counted in their access logs (on
 * their standard output), so the test knows which process served what.
 */
class ReusePortHandoverTest {
  private static final Pattern RUNNING = Pattern.compile("^meridian running: \\[[^\\]]*?:(\\d+)[,\\]]");
  private static final String PATH = "/handover";
  private static final int KEEP_ALIVE_CLIENTS = 4;
  private static final int NEW_CONNECTION_CLIENTS = 2;
  /**
   * Whether the kernel moves the connections waiting in a closing listener's accept queue to another
   * socket of its {@code SO_REUSEPORT} group (Linux 5.14 and later, off by default). Without it, a
   * connection that completed its handshake between the old process's last accept and its close is
   * reset: at most one per client thread, each having at most one new connection in flight.
   */
  private static final boolean KERNEL_MIGRATES_REQUESTS = kernelMigratesRequests();

  @TempDir Path dir;

  @Test
  void aSecondProcessTakesOverThePortWhileTheFirstDrainsAndNoRequestIsLost() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("served"))) {
      try (CliProcess one = startFirst(backend, true)) {
        int port = portOf(one);
        try (Load load = Load.start(port)) {
          await().atMost(Duration.ofSeconds(20)).until(() -> load.succeeded() >= 200);

          Path second = Files.writeString(dir.resolve("second.conf"), config(port, backend.port(), true));
          try (CliProcess two = CliProcess.start(dir, "run", "-c", second.toString())) {
            assertThat(portOf(two)).isEqualTo(port);
            await("the kernel hands the second process connections too").atMost(Duration.ofSeconds(20))
                .until(() -> served(two) >= 20);

            int firstExit = one.terminate(Duration.ofSeconds(30));

            int servedAfter = load.succeeded() + 200;
            await().atMost(Duration.ofSeconds(20)).until(() -> load.succeeded() >= servedAfter);
            load.stop();
            assertThat(load.failures()).as("requests that failed through the handover").isEmpty();
            assertThat(load.resetInAcceptQueue()).as("new connections reset before a byte of an answer; the"
                + " kernel resets those left in the old socket's accept queue when it closes, unless"
                + " net.ipv4.tcp_migrate_req = 1").hasSizeLessThanOrEqualTo(KERNEL_MIGRATES_REQUESTS ? 0
                    : KEEP_ALIVE_CLIENTS + NEW_CONNECTION_CLIENTS);
            assertThat(firstExit).as("exit code of the drained process; %s", one).isZero();
            assertThat(one.stdout()).contains("meridian: drained, bye");
            assertThat(two.terminate(Duration.ofSeconds(30))).as("exit code; %s", two).isZero();
            assertThat(served(one)).as("the first process served").isPositive();
            assertThat(served(one) + served(two)).as("every request answered was answered by one of the two")
                .isEqualTo(load.succeeded());
          }
        }
      }
    }
  }

  @Test
  void withoutReusePortTheSecondProcessIsRefusedThePort() throws Exception {
    try (TestBackend backend = TestBackend.start(TestBackend.ok("served"))) {
      try (CliProcess one = startFirst(backend, false)) {
        int port = portOf(one);
        Path second = Files.writeString(dir.resolve("second.conf"), config(port, backend.port(), false));
        try (CliProcess two = CliProcess.start(dir, "run", "-c", second.toString())) {
          assertThat(two.awaitExit(Duration.ofSeconds(30))).as("exit code; %s", two).isEqualTo(1);
          assertThat(two.stderr()).contains("meridian: listener 'web': cannot listen on /127.0.0.1:" + port
              + ": address already in use");
        }
        try (RawHttpClient client = RawHttpClient.connect(port)) {
          assertThat(client.send(request(false)).readResponse().status()).as("the first keeps serving").isEqualTo(200);
        }
        assertThat(one.terminate(Duration.ofSeconds(30))).isZero();
      }
    }
  }

  private static boolean kernelMigratesRequests() {
    try {
      return Files.readString(Path.of("/proc/sys/net/ipv4/tcp_migrate_req")).trim().equals("1");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Starts the first Meridian, on a free port. */
  private CliProcess startFirst(TestBackend backend, boolean reusePort) throws IOException {
    Path first = Files.writeString(dir.resolve("first.conf"), config(0, backend.port(), reusePort));
    return CliProcess.start(dir, "run", "-c", first.toString());
  }

  /** The port a process says it listens on, once it runs. */
  private static int portOf(CliProcess process) {
    return Integer.parseInt(process.awaitLine(RUNNING, Duration.ofSeconds(30)).group(1));
  }

  /** Requests one process's access log shows. */
  private static long served(CliProcess process) {
    return process.stdout().stream().filter(line -> line.contains(PATH)).count();
  }

  private static String config(int port, int backendPort, boolean reusePort) {
    return """
        meridian {
          listeners = [ { name = "web", address = "127.0.0.1:%d" } ]
          admin { enabled = false }
          server { event-loop-threads = 2, drain-timeout = 20s, reuse-port = %s }
          access-log { enabled = true }
          backend-groups { app { backends = [ { address = "127.0.0.1:%d" } ] } }
          routes = [ { name = "all", path-prefix = "/", backend-group = "app" } ]
        }
        """.formatted(port, reusePort, backendPort);
  }

  private static String request(boolean close) {
    return "GET " + PATH + " HTTP/1.1\r\nHost: test\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n";
  }

  /**
   * A closed-loop HTTP/1.1 load without retries: some clients keep their connection alive until the
   * server says {@code Connection: close} (then open a new one), the others open a new connection for
   * every request. Anything but a whole 200 answer is a failure.
   */
  private static final class Load implements AutoCloseable {
    private final InetSocketAddress target;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger succeeded = new AtomicInteger();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private final Queue<String> resetInAcceptQueue = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();

    private Load(int port) {
      this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    static Load start(int port) {
      Load load = new Load(port);
      for (int i = 0; i < KEEP_ALIVE_CLIENTS + NEW_CONNECTION_CLIENTS; i++) {
        boolean keepAlive = i < KEEP_ALIVE_CLIENTS;
        Thread thread = new Thread(() -> load.run(keepAlive), "load-" + i);
        thread.setDaemon(true);
        load.threads.add(thread);
        thread.start();
      }
      return load;
    }

    private void run(boolean keepAlive) {
      RawHttpClient client = null;
      while (running.get()) {
        boolean fresh = client == null;
        try {
          if (fresh) {
            client = RawHttpClient.connect(target);
          }
          RawHttpClient.RawResponse response = client.send(request(!keepAlive)).readResponse();
          if (response.status() != 200 || !response.bodyText().equals("served")) {
            failures.add("status " + response.status() + ": " + response.bodyText());
          } else {
            succeeded.incrementAndGet();
          }
          if (!keepAlive || "close".equalsIgnoreCase(response.header("connection"))) {
            client.close();
            client = null;
          }
        } catch (IOException e) {
          boolean reset = e instanceof java.net.SocketException && "Connection reset".equals(e.getMessage());
          (fresh && reset ? resetInAcceptQueue : failures).add(e.toString());
          client = closeQuietly(client);
        }
      }
      closeQuietly(client);
    }

    private static RawHttpClient closeQuietly(RawHttpClient client) {
      if (client != null) {
        try {
          client.close();
        } catch (IOException ignored) {
          // closing after a failure
        }
      }
      return null;
    }

    int succeeded() {
      return succeeded.get();
    }

    /** Everything but a new connection reset before any byte of its first answer came. */
    List<String> failures() {
      return List.copyOf(failures);
    }

    /** New connections reset before any byte of their first answer came (see {@link #KERNEL_MIGRATES_REQUESTS}). */
    List<String> resetInAcceptQueue() {
      return List.copyOf(resetInAcceptQueue);
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread thread : threads) {
        thread.join(15_000);
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop();
    }
  }
}
