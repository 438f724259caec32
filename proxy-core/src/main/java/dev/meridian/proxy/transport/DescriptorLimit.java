package dev.meridian.proxy.transport;

import java.lang.management.ManagementFactory;
import java.util.OptionalLong;

/** The process's open-file limit (ulimit -n), which bounds its client and backend connections together. */
public final class DescriptorLimit {
  private DescriptorLimit() {}

  /** The limit, when the platform says. */
  public static OptionalLong get() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      long max = unix.getMaxFileDescriptorCount();
      return max > 0 ? OptionalLong.of(max) : OptionalLong.empty();
    }
    return OptionalLong.empty();
  }
}
