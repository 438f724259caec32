package dev.meridian.proxy.server;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long one connection's backend may take to answer: the route's {@code timeouts.response-headers}
 * for each try, and the request's {@link RequestDeadline} across its tries, queueing and connecting.
 * When either passes before the response begins, the try is retried elsewhere (a timeout the route
 * retries) or the client answered 504. One timer per connection serves every request on it (no task
 * per request); an HTTP/2 connection's streams share {@link StreamResponseDeadlines} instead.
 */
final class ResponseHeadersTimer {
  private static final Logger log = LoggerFactory.getLogger(ResponseHeadersTimer.class);

  private final FrontendHandler connection;
  private final Runnable onTimer = this::onTimer;
  /** The connection's timer (see {@link #startTimer}), or null. */
  private ScheduledFuture<?> timer;
  /** When {@link #timer} fires (System.nanoTime), kept so that arming it reads the clock once. */
  private long timerDueNanos;

  ResponseHeadersTimer(FrontendHandler connection) {
    this.connection = connection;
  }

  /**
   * Gives the backend {@code timeouts.response-headers} from now to answer. One timer per connection
   * serves every request on it: it is armed when none is, and when it fires it either times the
   * current request out or waits again until that request's own deadline (no task per request). A
   * request due before the timer fires (a reload shortened the timeout, a drill's delay used part of
   * it) re-arms it. An HTTP/2 stream notes its deadline with its connection's
   * {@link StreamResponseDeadlines} instead, one timer for all the connection's streams.
   */
  void startTimer(Exchange ex) {
    // An injected delay stands for the backend's own slowness: it counts toward the timeout.
    long timeout = ex.route.responseHeaders().toNanos() - ex.injectedDelayNanos;
    long now = System.nanoTime();
    long due = now + Math.max(0, timeout);
    if (RequestDeadline.begin(ex, now)) {
      due = RequestDeadline.cap(ex, due);
    }
    arm(ex, due, now);
  }

  /**
   * Before a try (the first, or a retry): starts or checks the request's {@link RequestDeadline}, and
   * makes the timer fire at it while the try connects or waits for a slot. Answers 504 when it has
   * passed.
   *
   * @return false when the deadline has passed and the client was answered
   */
  boolean watchDeadline(Exchange ex) {
    if (ex.deadlineNanos == 0 && ex.route.responseDeadline().isZero()) {
      return true; // no clock read for routes without one
    }
    long now = System.nanoTime();
    if (!RequestDeadline.begin(ex, now)) {
      return true;
    }
    if (RequestDeadline.passed(ex, now)) {
      deadlinePassed(ex);
      return false;
    }
    // A try already waiting for headers keeps its own (sooner) due time; the deadline caps it.
    arm(ex, ex.responseDeadlineNanos == 0 ? ex.deadlineNanos : RequestDeadline.cap(ex, ex.responseDeadlineNanos), now);
    return true;
  }

  /**
   * Answers the exchange 504 if its request's deadline has passed (a slot granted, or a connection
   * made, in the same instant as the timer is due, before it ran), so nothing more is sent for it.
   *
   * @return whether it had passed and the client was answered
   */
  boolean answerIfDeadlinePassed(Exchange ex) {
    if (ex.deadlineNanos == 0 || !RequestDeadline.passed(ex, System.nanoTime())) {
      return false;
    }
    deadlinePassed(ex);
    return true;
  }

  /** Makes the timer check the exchange at {@code dueNanos}. */
  private void arm(Exchange ex, long dueNanos, long now) {
    ex.responseDeadlineNanos = dueNanos;
    StreamResponseDeadlines shared = connection.client.responseDeadlines();
    if (shared != null) {
      shared.arm(dueNanos, now);
      return;
    }
    if (timer != null && timerDueNanos - dueNanos > 0) {
      timer.cancel(false);
      timer = null;
    }
    if (timer == null) {
      timer = connection.client.eventLoop().schedule(onTimer, Math.max(0, dueNanos - now), TimeUnit.NANOSECONDS);
      timerDueNanos = dueNanos;
    }
  }

  /** Stops the connection's response-headers timer (the connection closed). */
  void stopTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void onTimer() {
    timer = null;
    long now = System.nanoTime();
    long deadline = checkDeadline(now);
    if (deadline != 0) {
      timer = connection.client.eventLoop().schedule(onTimer, deadline - now, TimeUnit.NANOSECONDS);
      timerDueNanos = deadline;
    }
  }

  /**
   * Answers the current exchange 504 when its response-headers deadline has passed by {@code nowNanos}
   * (System.nanoTime) with no response begun.
   *
   * @return the exchange's deadline when it still waits for one before it, else 0
   */
  long checkDeadline(long nowNanos) {
    Exchange ex = connection.exchange;
    if (connection.closing || ex == null || ex.responseDeadlineNanos == 0 || ex.responseStarted()) {
      return 0;
    }
    if (ex.responseDeadlineNanos - nowNanos > 0) {
      return ex.responseDeadlineNanos;
    }
    ex.responseDeadlineNanos = 0;
    if (RequestDeadline.passed(ex, nowNanos)) {
      deadlinePassed(ex);
      return 0;
    }
    String line = connection.context.failureLog.admittedLine(ex.backend, "response-headers-timeout");
    if (line != null) { // at most a line a second per backend: a stalled backend times out every request
      log.warn("{} {}: backend {} sent no response headers within {} ms{}", ex.requestId, connection.clientIp,
          ex.backend, ex.route.responseHeaders().toMillis(), line);
    }
    connection.context.metrics.upstreamFailed(ex.group.group().name(), ex.backend.id(), "timeout");
    ex.group.outliers().onGatewayFailure(ex.backend, "timeout");
    if (!connection.hedging().hedgeRacing(ex) && ex.route.retries().retriesOn("timeout") && ex.requestComplete && ex.isIdempotent()
        && connection.attempts.couldRetry(ex) && UpstreamAttempts.anotherBackendToTry(ex)
        && connection.attempts.mayRetry(ex, true, "timeout")) {
      // As nginx's proxy_next_upstream timeout, HAProxy's retry-on response-timeout: another backend
      // gets the request, with the timeout anew.
      log.info("{} {}: retrying elsewhere after backend {} timed out", ex.requestId, connection.clientIp, ex.backend);
      ex.lastFailure = "backend " + ex.backend.id() + " did not answer in time";
      connection.completion.abandonUpstream(ex);
      connection.attempts.connectUpstream(ex);
      return 0;
    }
    connection.completion.abandonUpstream(ex);
    connection.completion.failResponse(ex, HttpResponseStatus.GATEWAY_TIMEOUT,
        "backend " + ex.backend.id() + " did not answer in time");
    return 0;
  }

  /**
   * The request's response-deadline passed: the try under way (connecting, queued, or waiting for
   * headers) is abandoned and the client answered 504; no other try is made. A backend that was
   * being waited on is counted (reason {@code deadline}) but not reported to passive health: it may
   * only have had what was left of the time.
   */
  private void deadlinePassed(Exchange ex) {
    String why = RequestDeadline.explain(ex);
    log.warn("{} {}: {}", ex.requestId, connection.clientIp, why);
    if (ex.backend != null && ex.upstream != null) {
      connection.context.metrics.upstreamFailed(ex.group.group().name(), ex.backend.id(), "deadline");
    }
    connection.completion.abandonUpstream(ex);
    connection.completion.failResponse(ex, HttpResponseStatus.GATEWAY_TIMEOUT, why);
  }
}
