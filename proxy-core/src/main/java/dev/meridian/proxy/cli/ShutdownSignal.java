package dev.meridian.proxy.cli;

import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * Waits for SIGTERM or SIGINT. The signals are handled here instead of by JVM shutdown hooks so that
 * the process can drain and exit with status 0 rather than 143.
 */
final class ShutdownSignal {
  private final CountDownLatch received = new CountDownLatch(1);
  private volatile String name = "shutdown";

  private ShutdownSignal() {}

  /** Installs handlers for TERM and INT. */
  static ShutdownSignal install() {
    ShutdownSignal signal = new ShutdownSignal();
    for (String sig : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(sig), s -> {
        signal.name = "SIG" + s.getName();
        signal.received.countDown();
      });
    }
    return signal;
  }

  /**
   * Runs {@code action} on every SIGHUP (configuration reload). A process started with SIGHUP ignored
   * (under nohup) never gets one: the JVM leaves an ignored signal alone, so this is logged.
   */
  static void onHangup(Runnable action) {
    Signal.handle(new Signal("HUP"), s -> action.run());
    if (hangupIgnored()) {
      org.slf4j.LoggerFactory.getLogger(ShutdownSignal.class).warn("SIGHUP is ignored by this process (started"
          + " under nohup?), so it cannot reload the configuration: the file watch and POST /admin/api/reload"
          + " still do");
    }
  }

  /**
   * Runs {@code action} on every SIGUSR1, which logrotate and nginx operators send to have log files
   * reopened (without a handler the JVM would die of it, undrained).
   */
  static void onUserSignal1(Runnable action) {
    Signal.handle(new Signal("USR1"), s -> action.run());
  }

  /** Whether this process ignores SIGHUP, as Linux's /proc/self/status says (false elsewhere). */
  private static boolean hangupIgnored() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16) & 1L) != 0; // bit 0: SIGHUP
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      return false;
    }
    return false;
  }

  /** Blocks until a signal arrives. */
  void await() throws InterruptedException {
    received.await();
  }

  /** The signal's name, e.g. SIGTERM. */
  String name() {
    return name;
  }
}
