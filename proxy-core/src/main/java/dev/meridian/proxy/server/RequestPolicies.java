package dev.meridian.proxy.server;

import dev.meridian.balancer.NanoClock;
import dev.meridian.balancer.ReadYourWritesCookie;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.MeridianSettings.LimitSettings;
import dev.meridian.proxy.http.RequestHeadRewriter;
import dev.meridian.proxy.http.ResponseHeadRewriter;
import io.netty.channel.WriteBufferWaterMark;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The part of the configuration in force that requests and client connections are held to and
 * rewritten with: limits, timeouts, the header rewriters, tracing, path policy, debug headers and the
 * client rate limit. A reload builds a new one beside the old: a client connection reads the one in
 * force when it opens (codec limits, idle timeout), a request when its head arrives (everything else),
 * and keeps it to its end.
 *
 * <p>Immutable and shared by every event loop; the rate limiter is thread-safe.
 */
final class RequestPolicies {
  /** The configuration these policies come from. */
  final MeridianSettings settings;
  final RequestHeadRewriter requestRewriter;
  final ResponseHeadRewriter responseRewriter;
  /** Requests a second per client address, or null for no limit. */
  final ClientRateLimiter rateLimiter;
  /** Signs and checks the read-your-writes cookie ({@code meridian.cookie-secret}). */
  final ReadYourWritesCookie readYourWrites;
  /** Whether selectors record why they chose (debug headers, or the access log's decisions). */
  final boolean explainDecisions;
  /** The write watermarks of client connections ({@code upstream.write-buffer-low/high}). */
  final WriteBufferWaterMark clientWaterMark;
  /** Whether the access log records decisions: it is started once, with the server, so it stays. */
  final boolean accessLogDecisions;

  private RequestPolicies(MeridianSettings settings, ClientRateLimiter rateLimiter,
      ReadYourWritesCookie readYourWrites, boolean accessLogDecisions) {
    this.settings = settings;
    this.requestRewriter = new RequestHeadRewriter(settings.headers());
    this.responseRewriter = new ResponseHeadRewriter(settings.headers());
    this.rateLimiter = rateLimiter;
    this.readYourWrites = readYourWrites;
    this.accessLogDecisions = accessLogDecisions;
    this.clientWaterMark = new WriteBufferWaterMark(settings.upstream().writeBufferLow(),
        settings.upstream().writeBufferHigh());
    this.explainDecisions = settings.debugHeaders() || accessLogDecisions;
  }

  /**
   * The policies of the configuration a server starts with.
   *
   * @param accessLogDecisions whether the access log (started once, with the server) records decisions
   */
  static RequestPolicies initial(MeridianSettings settings, boolean accessLogDecisions, NanoClock clock) {
    LimitSettings limits = settings.limits();
    return new RequestPolicies(settings,
        ClientRateLimiter.of(limits.clientRequestRate(), limits.clientRequestBurst(), clock),
        readYourWrites(settings), accessLogDecisions);
  }

  /**
   * The policies of a reloaded configuration. The client rate limiter and the read-your-writes
   * cookie's key are kept when their settings did not change, so clients' buckets and cookies carry
   * over.
   */
  RequestPolicies next(MeridianSettings next, NanoClock clock) {
    LimitSettings was = settings.limits();
    LimitSettings now = next.limits();
    ClientRateLimiter limiter = was.clientRequestRate() == now.clientRequestRate()
        && was.clientRequestBurst() == now.clientRequestBurst()
        ? rateLimiter : ClientRateLimiter.of(now.clientRequestRate(), now.clientRequestBurst(), clock);
    ReadYourWritesCookie cookie = Objects.equals(settings.cookieSecret(), next.cookieSecret())
        ? readYourWrites : readYourWrites(next);
    return new RequestPolicies(next, limiter, cookie, accessLogDecisions);
  }

  private static ReadYourWritesCookie readYourWrites(MeridianSettings settings) {
    return settings.cookieSecret()
        .map(secret -> new ReadYourWritesCookie(secret.getBytes(StandardCharsets.UTF_8)))
        .orElseGet(ReadYourWritesCookie::withRandomSecret);
  }
}
