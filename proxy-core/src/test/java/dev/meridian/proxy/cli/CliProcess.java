package dev.meridian.proxy.cli;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/**
 * Runs {@code meridian ARGS} as a child JVM on the test class path, collecting its standard output line
 * by line (standard error goes to a file), so a test can wait for a line, signal it and read its exit code.
 */
final class CliProcess implements AutoCloseable {
  /**
   * What the command starts with so that the child gets SIGHUP's default disposition: a test run
   * started under nohup hands SIGHUP on ignored, and the JVM then never sees a hangup (GNU env's
   * {@code --default-signal}; nothing where it is missing).
   */
  private static final List<String> HANGUP_RESET = hangupReset();

  private final Process process;
  private final List<String> stdout = new CopyOnWriteArrayList<>();
  private final Path stderr;
  private final Thread reader;

  private CliProcess(Process process, Path stderr) {
    this.process = process;
    this.stderr = stderr;
    this.reader = new Thread(this::collectStdout, "cli-stdout-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@code java -cp <test class path> dev.meridian.proxy.cli.MeridianCli args...}, with the
   * packages opened that the jar's manifest opens.
   */
  static CliProcess start(Path workDir, String... args) throws IOException {
    List<String> command = new ArrayList<>(HANGUP_RESET);
    command.addAll(List.of(
        Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        // What the jar's manifest opens (Add-Opens), for Netty's own count of direct buffers.
        "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"),
        MeridianCli.class.getName()));
    command.addAll(List.of(args));
    Path stderr = Files.createTempFile(workDir, "stderr-", ".txt");
    Process process = new ProcessBuilder(command)
        .redirectError(stderr.toFile())
        .start();
    return new CliProcess(process, stderr);
  }

  private static List<String> hangupReset() {
    List<String> reset = List.of("env", "--default-signal=HUP");
    List<String> probeCommand = new ArrayList<>(reset);
    probeCommand.add("true");
    try {
      Process probe = new ProcessBuilder(probeCommand).start();
      return probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0 ? reset : List.of();
    } catch (IOException e) {
      return List.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
  }

  private void collectStdout() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        stdout.add(line);
      }
    } catch (IOException ended) {
      // the process is gone
    }
  }

  /** Waits up to {@code within} for a stdout line matching {@code pattern}; returns the match. */
  Matcher awaitLine(Pattern pattern, Duration within) {
    try {
      await().atMost(within)
          .failFast("the process exited", () -> !process.isAlive() && !matchesAny(pattern))
          .until(() -> matchesAny(pattern));
    } catch (ConditionTimeoutException | TerminalFailureException e) {
      throw new AssertionError("no line matching " + pattern + " (" + e.getMessage() + "); " + this, e);
    }
    return stdout.stream().map(pattern::matcher).filter(Matcher::find).findFirst().orElseThrow();
  }

  private boolean matchesAny(Pattern pattern) {
    return stdout.stream().anyMatch(line -> pattern.matcher(line).find());
  }

  /**
   * Sends SIGTERM, waits up to {@code within} for the exit code, and until every line the process printed
   * has been collected. ({@link ProcessHandle#destroy()}, because {@link Process#destroy()} also closes
   * our end of the pipes and would lose what the process prints while stopping.)
   */
  int terminate(Duration within) throws InterruptedException {
    process.toHandle().destroy();
    if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("no exit within " + within + " of SIGTERM; " + this);
    }
    reader.join(5_000);
    return process.exitValue();
  }

  /** Waits up to {@code within} for the process to exit by itself (and its output to be read); returns its exit code. */
  int awaitExit(Duration within) throws InterruptedException {
    if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("no exit within " + within + "; " + this);
    }
    reader.join(5_000);
    return process.exitValue();
  }

  /** Sends SIGHUP (a configuration reload), as {@code kill -HUP PID} would. */
  void hangup() throws IOException, InterruptedException {
    signal("HUP");
  }

  /** Sends the signal ({@code HUP}, {@code USR1}, ...) as {@code kill -NAME PID} would. */
  void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new AssertionError("kill -" + name + " " + process.pid() + " failed; " + this);
    }
  }

  /** What the process wrote to standard error so far (its log). */
  String stderr() throws IOException {
    return Files.readString(stderr);
  }

  /** Every stdout line so far. */
  List<String> stdout() {
    return List.copyOf(stdout);
  }

  /** Kills the process if it still runs. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Override
  public String toString() {
    String err;
    try {
      err = Files.readString(stderr);
    } catch (IOException e) {
      err = "(unreadable: " + e + ")";
    }
    return "stdout:\n" + String.join("\n", stdout) + "\nstderr:\n" + err;
  }
}
