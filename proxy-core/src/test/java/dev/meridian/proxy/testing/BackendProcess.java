package dev.meridian.proxy.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend in a process of its own, so a test can kill it the way production loses a server
 * ({@code SIGKILL}: the kernel resets its connections and refuses new ones), and start it again on
 * the same port.
 *
 * <p>The child runs {@link #main}: a {@link TestBackend} on {@code 127.0.0.1} answering {@code /healthz}
 * with 200 and everything else with 200 and its id as the body; it prints {@code PORT n} once bound.
 */
public final class BackendProcess implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private final String id;
  private final Process process;
  private final int port;

  private BackendProcess(String id, Process process, int port) {
    this.id = id;
    this.process = process;
    this.port = port;
  }

  /** Starts a backend process with this id on a free port and waits until it listens. */
  public static BackendProcess start(String id) throws IOException, InterruptedException {
    return start(id, 0);
  }

  /** Starts a backend process with this id on {@code port} (0: a free one) and waits until it listens. */
  public static BackendProcess start(String id, int port) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(List.of(
        Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
        "-cp", System.getProperty("java.class.path"),
        BackendProcess.class.getName(), id, Integer.toString(port)))
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    AtomicInteger bound = new AtomicInteger(-1);
    CountDownLatch ready = new CountDownLatch(1);
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          if (line.startsWith("PORT ")) {
            bound.set(Integer.parseInt(line.substring(5).trim()));
            ready.countDown();
          }
        }
      } catch (IOException | NumberFormatException gone) {
        // the process ended
      } finally {
        ready.countDown();
      }
    }, "backend-process-" + id);
    reader.setDaemon(true);
    reader.start();
    if (!ready.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || bound.get() < 0) {
      process.destroyForcibly();
      throw new IllegalStateException("backend process " + id + " did not start listening within " + START_TIMEOUT);
    }
    return new BackendProcess(id, process, bound.get());
  }

  /** The backend's id (also the body it answers with). */
  public String id() {
    return id;
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** Kills the process with SIGKILL and waits until it is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("backend process " + id + " survived SIGKILL");
    }
  }

  /** Starts a new process with the same id on the same port (after {@link #kill()}). */
  public BackendProcess restart() throws IOException, InterruptedException {
    return start(id, port);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }

  /** The child's entry point: {@code BackendProcess ID PORT}. */
  public static void main(String[] args) throws InterruptedException {
    String id = args[0];
    int port = Integer.parseInt(args[1]);
    TestBackend backend = TestBackend.start(request -> request.uri().startsWith("/healthz")
        ? TestBackend.Reply.status(200) : TestBackend.Reply.ok(id), port);
    System.out.println("PORT " + backend.port());
    System.out.flush();
    Thread.currentThread().join();
  }
}
