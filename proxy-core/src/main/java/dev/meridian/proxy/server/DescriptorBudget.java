package dev.meridian.proxy.server;

import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the client listeners' connection bounds within the process's file descriptor limit (ulimit
 * -n), as HAProxy derives its maxconn from it: each client connection may hold a backend connection
 * too, and {@value #RESERVED} descriptors stay for the admin port, health checks, discovery, logs and
 * the JVM. An attacker's idle connections otherwise used every descriptor (max-connections 65,536
 * against a limit of 20,000): accepts failed with EMFILE once a second with a stack trace, and the
 * admin port and new clients went unanswered until the connections closed.
 */
final class DescriptorBudget {
  private static final Logger log = LoggerFactory.getLogger(DescriptorBudget.class);
  /** Descriptors kept for everything but client connections and their backend connections. */
  static final int RESERVED = 256;
  /** limits.max-connections as reference.conf has it: held lower without a warning. */
  static final int DEFAULT_MAX_CONNECTIONS = 65536;

  /** The bound last logged for each listener, so a reload that keeps it says nothing. */
  private static final java.util.Map<String, Integer> ANNOUNCED = new java.util.concurrent.ConcurrentHashMap<>();

  private DescriptorBudget() {}

  /**
   * The listener's bound: {@code configured}, or less when the descriptor limit, shared by
   * {@code listeners} listeners, allows fewer (logged).
   */
  static int bound(String listener, int configured, int listeners) {
    OptionalLong limit = dev.meridian.proxy.transport.DescriptorLimit.get();
    if (limit.isEmpty()) {
      return configured;
    }
    int allowed = allowed(limit.getAsLong(), listeners);
    if (configured <= allowed) {
      return configured;
    }
    if (!ANNOUNCED.containsKey(listener) || ANNOUNCED.get(listener) != allowed) {
      ANNOUNCED.put(listener, allowed);
    } else {
      return allowed; // said already (a reload keeps the bound): not again on every reload
    }
    String line = "listener '{}': max-connections {} is more than {} open files (ulimit -n) allow with a backend"
        + " connection each over {} listener(s); holding at most {} (raise the limit, e.g. LimitNOFILE in"
        + " systemd, to hold more)";
    if (configured == DEFAULT_MAX_CONNECTIONS) {
      log.info(line, listener, configured, limit.getAsLong(), listeners, allowed); // the default: no mistake
    } else {
      log.warn(line, listener, configured, limit.getAsLong(), listeners, allowed);
    }
    return allowed;
  }

  /** Client connections one of {@code listeners} listeners may hold under a limit of {@code descriptors}. */
  static int allowed(long descriptors, int listeners) {
    long perListener = (descriptors - RESERVED) / 2 / Math.max(1, listeners);
    return (int) Math.max(16, Math.min(Integer.MAX_VALUE, perListener));
  }
}
