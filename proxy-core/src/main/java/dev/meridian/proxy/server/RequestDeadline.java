package dev.meridian.proxy.server;

/**
 * A request's overall deadline for its response headers ({@code response-deadline}): every try
 * together, where {@code response-headers} times each try on its own. It counts from the request's
 * arrival, or from when the client sent the end of its body when it has one (as Envoy's route
 * timeout counts from the end of the downstream request), so a slow upload is not charged to the
 * backends; a body that waits for a connection or a backend's slot is.
 *
 * <p>The deadline is kept on the exchange ({@link Exchange#deadlineNanos}); the connection's
 * response-headers timer ({@link ResponseHeadersTimer}) fires at it, whichever phase the request is in
 * (connecting, waiting for a slot, waiting for headers), and then no other try is made. Times are
 * {@link System#nanoTime()}, as the timer's.
 */
final class RequestDeadline {
  private RequestDeadline() {}

  /**
   * Starts the exchange's deadline if its route has one, it has not started, and it counts from now on:
   * a request without a body counts from its arrival, one with a body once the body has ended.
   *
   * @return whether the exchange has a deadline now
   */
  static boolean begin(Exchange ex, long nowNanos) {
    if (ex.deadlineNanos != 0) {
      return true;
    }
    boolean fromArrival = ex.bodiless || ex.expectsContinue; // (a client expecting 100 waits for the backend)
    if (ex.route.responseDeadline().isZero() || !(fromArrival || ex.bodyEndedNanos != 0 || ex.requestComplete)) {
      return false;
    }
    long from = fromArrival ? ex.startNanos : ex.bodyEndedNanos != 0 ? ex.bodyEndedNanos : nowNanos;
    ex.deadlineNanos = from + ex.route.responseDeadline().toNanos();
    if (ex.deadlineNanos == 0) {
      ex.deadlineNanos = 1; // 0 stands for none
    }
    return true;
  }

  /** When the next try's response headers are due: {@code tryDueNanos}, or the deadline if sooner. */
  static long cap(Exchange ex, long tryDueNanos) {
    return ex.deadlineNanos != 0 && ex.deadlineNanos - tryDueNanos < 0 ? ex.deadlineNanos : tryDueNanos;
  }

  /** Whether the exchange has a deadline and it has passed by {@code nowNanos}. */
  static boolean passed(Exchange ex, long nowNanos) {
    return ex.deadlineNanos != 0 && nowNanos - ex.deadlineNanos >= 0;
  }

  /** The hedges still racing (connecting, or sent and unanswered); a winner counts among the tries. */
  private static int hedgesOut(Exchange ex) {
    int hedges = 0;
    if (ex.race != null) {
      for (HedgedAttempt hedge : ex.race.attempts) {
        hedges += hedge.isRacing() ? 1 : 0;
      }
    }
    return hedges;
  }

  /** The 504's explanation: the limit, the tries made and the last failure, if any. */
  static String explain(Exchange ex) {
    StringBuilder why = new StringBuilder(96).append("no response within route ").append(ex.route.name())
        .append("'s response-deadline of ").append(ex.route.responseDeadline().toMillis()).append(" ms (");
    if (ex.attempts == 0) {
      why.append("still waiting for a backend to take it");
    } else {
      why.append(ex.attempts).append(ex.attempts == 1 ? " try" : " tries");
    }
    int hedges = hedgesOut(ex);
    if (hedges > 0) {
      why.append(" and ").append(hedges).append(hedges == 1 ? " hedge" : " hedges");
    }
    if (ex.lastFailure != null) {
      why.append("; last: ").append(ex.lastFailure);
    }
    return why.append(')').toString();
  }
}
