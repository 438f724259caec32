package dev.meridian.proxy.upstream;

import io.netty.channel.ChannelException;

/**
 * Tells a failure of this process (no file descriptor left for a socket, no direct memory for a
 * buffer) from a backend's: such a failure says nothing of the backend's health, so passive health
 * must not count it. Under an attack that used up the descriptors or the direct memory, healthy
 * backends were ejected for minutes, each attack longer.
 */
public final class LocalFailures {
  private LocalFailures() {}

  /** Whether {@code cause}, or one of its causes, is this process running out of something. */
  public static boolean isLocal(Throwable cause) {
    int depth = 0;
    for (Throwable t = cause; t != null && depth++ < 16; t = t.getCause()) {
      if (t instanceof OutOfMemoryError || t instanceof ChannelException
          || t instanceof UpstreamConnectionBudget.Exhausted) {
        return true; // direct memory (Netty's OutOfDirectMemoryError), or a socket not created
      }
      String message = t.getMessage();
      if (message != null && (message.contains("Too many open files") || message.contains("error(-24)"))) {
        return true; // EMFILE, however the transport words it
      }
    }
    return false;
  }
}
