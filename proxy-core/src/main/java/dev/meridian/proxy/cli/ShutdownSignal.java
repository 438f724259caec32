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

  /** Runs {@code action} on every SIGHUP (configuration reload). */
  static void onHangup(Runnable action) {
    Signal.handle(new Signal("HUP"), s -> action.run());
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
