package dev.meridian.proxy.transport;

import io.netty.util.internal.PlatformDependent;

/**
 * How Netty makes the direct buffers every connection reads into, as the operator should know it at
 * start: counted by Netty against the direct memory limit, so that an allocation over it fails at
 * once, or through the JDK's cleaner, where an allocation over it first runs a full collection and
 * sleeps up to about a second, stalling the event loop that asked (see
 * {@code MeridianCli.TRY_REFLECTION_SET_ACCESSIBLE}).
 */
public final class DirectMemory {
  private DirectMemory() {}

  /** Whether Netty counts its direct buffers itself (the jar's way), failing at once when full. */
  public static boolean countedByNetty() {
    return PlatformDependent.useDirectBufferNoCleaner();
  }

  /** The line that says so, with the limit in MiB. */
  public static String describe() {
    long mib = PlatformDependent.maxDirectMemory() >> 20;
    return countedByNetty()
        ? "direct memory: up to " + mib + " MiB, counted by Netty (an allocation over it fails at once)"
        : "direct memory: up to " + mib + " MiB through the JDK's cleaner: once it is full, each allocation"
            + " stalls its event loop for up to a second before failing. Run the jar (java -jar, whose manifest"
            + " opens java.base/java.nio), or add --add-opens java.base/java.nio=ALL-UNNAMED"
            + " -Dio.netty.tryReflectionSetAccessible=true";
  }
}
