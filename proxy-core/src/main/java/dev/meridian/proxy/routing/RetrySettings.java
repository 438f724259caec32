package dev.meridian.proxy.routing;

import java.util.Set;

/**
 * When and how often a route tries a failed request again ({@code routes[].retries}); read from the
 * configuration by the config package.
 *
 * @param attempts      retries after the first try (default: upstream.connect-attempts - 1)
 * @param on            what is retried: {@code connect-failure}, {@code reset-before-response} and
 *                      status codes such as 502, 503, 504 (default: the first two)
 * @param budget        retries allowed as a fraction of recent requests (default 0.2)
 * @param minPerSecond  retries always allowed per second (default 3)
 * @param maxReplayBody largest request body kept for a retry, in bytes (default 64KiB)
 */
public record RetrySettings(int attempts, Set<String> on, double budget, int minPerSecond, int maxReplayBody) {

  /** Whether the condition ({@code connect-failure}, {@code reset-before-response}) is retried. */
  public boolean retriesOn(String condition) {
    return on.contains(condition);
  }

  /** Whether a response with this status is retried. */
  public boolean retriesStatus(int status) {
    return status >= 500 && status <= 599 && on.contains(Integer.toString(status));
  }
}
