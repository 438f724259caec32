package dev.meridian.proxy.tls;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** What the TLS listener tests share: whether curl is there to try a listener with. */
final class TlsListenerTestSupport {
  private TlsListenerTestSupport() {}

  /** Whether curl runs here (.ci/run installs it). */
  static boolean curlInstalled() {
    try {
      return new ProcessBuilder("curl", "--version").start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
