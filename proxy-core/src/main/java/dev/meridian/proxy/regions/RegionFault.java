package dev.meridian.proxy.regions;

import java.util.concurrent.ThreadLocalRandom;

/**
 * A fault injected into the requests a group forwards to one region, as a failover drill asks (Envoy's
 * fault filter, per region instead of per route): a delay before forwarding, and a share of requests
 * answered with a status as if the region had.
 *
 * @param delayNanos    added before each request is forwarded to the region (0: none); it counts in
 *                      the backends' latency EWMA like real latency, so steering reacts
 * @param abortStatus   the status aborted requests get (500-599), or 0 for none
 * @param abortFraction the share of requests aborted, 0-1
 */
public record RegionFault(long delayNanos, int abortStatus, double abortFraction) {

  /** Checks the values. */
  public RegionFault {
    if (delayNanos < 0) {
      throw new IllegalArgumentException("delay: " + delayNanos + "ns (expected: >= 0)");
    }
    if (abortStatus != 0 && (abortStatus < 500 || abortStatus > 599)) {
      throw new IllegalArgumentException("abort: " + abortStatus + " (expected: a status 500-599)");
    }
    if (!(abortFraction >= 0 && abortFraction <= 1)) {
      throw new IllegalArgumentException("percent: " + abortFraction * 100 + " (expected: 0-100)");
    }
    if (delayNanos == 0 && (abortStatus == 0 || abortFraction == 0)) {
      throw new IllegalArgumentException("fault: nothing to inject (expected: a delay, or an abort status and percent)");
    }
  }

  /** Draws whether this request is aborted. */
  public boolean aborts() {
    return abortStatus != 0 && (abortFraction >= 1 || ThreadLocalRandom.current().nextDouble() < abortFraction);
  }

  /** How the fault reads in a decision header or log line, e.g. {@code delay 200ms, abort 503 10%}. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    if (delayNanos > 0) {
      b.append("delay ").append(delayNanos / 1_000_000).append("ms");
    }
    if (abortStatus != 0 && abortFraction > 0) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append("abort ").append(abortStatus).append(' ').append(formatPercent(abortFraction * 100)).append('%');
    }
    return b.toString();
  }

  private static String formatPercent(double percent) {
    return percent == Math.rint(percent) ? Long.toString((long) percent) : Double.toString(percent);
  }
}
