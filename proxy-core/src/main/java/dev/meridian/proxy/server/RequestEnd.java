package dev.meridian.proxy.server;

import dev.meridian.proxy.regions.RegionCounters;

/**
 * What happens once per request when it ends, however it ended: it is counted on its route's meters
 * and in its group's region, written to the access log, and kept among the dashboard's recent
 * decisions when it was sampled.
 */
final class RequestEnd {
  private RequestEnd() {}

  /**
   * Accounts for the exchange, which ended with this status (499: the client left before an answer).
   *
   * @param cutOff whether its response had started and did not end (the region counts it as failed)
   */
  static void record(FrontendHandler connection, Exchange ex, int status, boolean cutOff) {
    record(connection, ex, status, cutOff, true);
  }

  /**
   * As {@link #record(FrontendHandler, Exchange, int, boolean)}; without {@code accessLog}, the
   * access log line is left to the caller (a tunnel's is written when it closes).
   */
  static void record(FrontendHandler connection, Exchange ex, int status, boolean cutOff, boolean accessLog) {
    long nanos = System.nanoTime() - ex.startNanos;
    if (ex.group != null && !ex.fromCache()) {
      RegionCounters counters = ex.regionCounters != null ? ex.regionCounters : ex.group.traffic().of(null);
      counters.record(ex.status, ex.isLocal() && !ex.injectedAbort, cutOff, nanos);
    }
    connection.meters.requestFinished(ExchangeCompletion.routeName(ex), status, nanos, ex.bodyBytesForwarded,
        ex.responseBytes);
    if (accessLog) {
      AccessLogRecorder.record(connection.context, connection, ex, status, nanos, cutOff);
    }
    if (ex.decisionSampled) {
      connection.context.recentDecisions.record(new RecentDecisions.Decision(
          connection.context.epochMillis(), ex.method, ex.path, ex.selection.clientRegion(),
          ex.route == null ? null : ex.route.name(), ex.group == null ? null : ex.group.group().name(),
          ex.backend == null ? null : ex.backend.region(),
          ex.backend == null ? null : ex.backend.id(), status, nanos / 1e6,
          why(ex)));
    }
  }

  private static String why(Exchange ex) {
    if (ex.fromCache()) {
      return "edge cache " + ex.cacheStatus();
    }
    String decision = ex.selection.decision();
    return decision != null ? decision : ex.stickyNote;
  }
}
