package dev.meridian.proxy.server;

import dev.meridian.proxy.http.LocalResponses;
import dev.meridian.proxy.http1.ServerHttpCodec;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The slowloris guard of an HTTP/1 connection: a request head must arrive whole within
 * {@code limits.request-head-timeout} of its first byte, and a request body must average
 * {@code limits.min-request-body-rate} once it has had as long; else the client gets 408 and the
 * connection closes. One timer per connection, re-armed while requests are served (no task per
 * request).
 */
final class RequestHeadTimer {
  private static final Logger log = LoggerFactory.getLogger(RequestHeadTimer.class);

  private final FrontendHandler connection;
  private final ServerHttpCodec codec;
  private final Runnable onTimeout = this::onTimeout;
  private ScheduledFuture<?> timer;

  RequestHeadTimer(FrontendHandler connection, ServerHttpCodec codec) {
    this.connection = connection;
    this.codec = codec;
  }

  /** Arms the timer unless it runs already. */
  void start() {
    if (timer == null) {
      schedule(timeoutNanos());
    }
  }

  void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private long timeoutNanos() {
    return connection.context.policies().settings.limits().requestHeadTimeout().toNanos();
  }

  /**
   * Whether the exchange's request body, still arriving, has averaged less than the minimum rate
   * since its head, now that it has had {@code graceNanos} to arrive.
   */
  private boolean bodyTooSlow(Exchange ex, long graceNanos) {
    int minRate = ex.policies.settings.limits().minRequestBodyRate();
    if (minRate <= 0 || ex.requestComplete || ex.bodiless || ex.responseStarted()
        || ex.waitsForBackend() || ex.upstream == null || (ex.expectsContinue && ex.bodyProgressNanos == 0)) {
      // Not the client's doing: no backend connection yet, or the client rightly holds its body until
      // the backend's 100 (RFC 9110 section 10.1.1).
      return false;
    }
    if (ex.upstream != null && !ex.upstream.isWritable()) {
      return false; // the backend is what is slow: Meridian holds the client back, not the other way round
    }
    long now = System.nanoTime();
    if (ex.http2 && isGrpc(ex)) {
      return grpcBodyStalled(ex, now);
    }
    // Timed from when the body could first flow: its head sent to a backend, or the backend's 100.
    long elapsed = now - (ex.bodyProgressNanos != 0 ? ex.bodyProgressNanos : ex.startNanos);
    return elapsed >= graceNanos && ex.bodyBytesForwarded * 1_000_000_000.0 / elapsed < minRate;
  }

  /**
   * Whether a gRPC call's client stream sent nothing for {@code timeouts.client-idle}: it is held to
   * that gap, not to an average rate. Progress is looked at each time the timer runs (every
   * request-head-timeout), so the call is refused between client-idle and client-idle plus one of those.
   */
  private boolean grpcBodyStalled(Exchange ex, long now) {
    if (ex.bodyProgressNanos == 0 || ex.bodyBytesForwarded != ex.bodyProgressBytes) {
      ex.bodyProgressBytes = ex.bodyBytesForwarded;
      ex.bodyProgressNanos = now;
      return false;
    }
    return now - ex.bodyProgressNanos >= ex.policies.settings.timeouts().clientIdle().toNanos();
  }

  /**
   * Whether the request is a gRPC call (Content-Type application/grpc, +proto, +json, ...): over
   * HTTP/2, a client stream's messages come at the application's pace, often seconds apart while the
   * server sends nothing yet, so it is held to timeouts.client-idle between parts (as nginx's
   * client_body_timeout holds any body), not to an average rate (which ended such calls with 408
   * after 30 s). Over HTTP/1 the rate applies: gRPC is HTTP/2 only.
   */
  private static boolean isGrpc(Exchange ex) {
    return dev.meridian.proxy.http.GrpcLocalAnswers.isGrpc(ex.request.headers());
  }

  private void schedule(long delayNanos) {
    timer = connection.client.eventLoop().schedule(onTimeout, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void onTimeout() {
    timer = null;
    if (connection.closing) {
      return;
    }
    long timeout = timeoutNanos();
    Exchange ex = connection.exchange;
    if (ex != null) {
      if (bodyTooSlow(ex, timeout)) {
        ClientStalls.refuseStalledBody(connection, ex, ex.http2 && isGrpc(ex)
            ? "(a gRPC client stream) sent nothing for timeouts.client-idle ("
                + ex.policies.settings.timeouts().clientIdle().toMillis() + " ms)"
            : "arrived slower than limits.min-request-body-rate ("
                + ex.policies.settings.limits().minRequestBodyRate() + " bytes/s)");
        return;
      }
      schedule(timeout);
      return;
    }
    long since = codec == null ? 0 : codec.partialHeadSinceNanos();
    long waited = since == 0 ? 0 : System.nanoTime() - since;
    if (since == 0 || waited < timeout) {
      // No head begun yet (idle keep-alive is the idle timeout's business), or it began recently:
      // check again when its own deadline passes.
      schedule(since == 0 ? timeout : timeout - waited);
      return;
    }
    if (codec != null && codec.hasPartialHead()) {
      RequestPolicies policies = connection.context.policies();
      log.info("{}: request head not complete within {} ms; 408", connection.clientIp,
          policies.settings.limits().requestHeadTimeout().toMillis());
      connection.closing = true;
      FullHttpResponse response = LocalResponses.create(HttpResponseStatus.REQUEST_TIMEOUT,
          "the request head did not arrive in time", HttpVersion.HTTP_1_1, false,
          policies.requestRewriter.requestIdHeader(), null);
      connection.client.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
