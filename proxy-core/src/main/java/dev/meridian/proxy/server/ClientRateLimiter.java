package dev.meridian.proxy.server;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.meridian.balancer.NanoClock;

/**
 * A token bucket per client address ({@code limits.client-request-rate} and
 * {@code client-request-burst}): each address starts with a full bucket of {@code burst} tokens,
 * gains {@code rate} a second up to the burst, and a request takes one. The buckets live in a
 * Caffeine cache bounded to {@value #MAX_CLIENTS} addresses, the least recently seen dropped first
 * (a dropped address starts again with a full bucket), so a flood of addresses cannot grow memory.
 *
 * <p>Thread-safe: each bucket is locked on its own (one address's requests may come on several
 * event loops), never across addresses.
 */
final class ClientRateLimiter {
  static final int MAX_CLIENTS = 100_000;

  private final double tokensPerNano;
  private final double burst;
  private final NanoClock clock;
  private final Cache<String, Bucket> buckets;
  /** Makes a full bucket for an address seen first (one function, not a capturing lambda per request). */
  private final java.util.function.Function<String, Bucket> fullBucket;

  ClientRateLimiter(double perSecond, int burst, NanoClock clock) {
    this.tokensPerNano = perSecond / 1e9;
    this.burst = burst;
    this.clock = clock;
    // Evictions run on the calling thread: nothing is handed to the common pool from an event loop.
    this.buckets = Caffeine.newBuilder().maximumSize(MAX_CLIENTS).executor(Runnable::run).build();
    this.fullBucket = address -> new Bucket(this.burst, clock.nanoTime());
  }

  /** A limiter as the settings say, or null when there is no limit (rate 0). */
  static ClientRateLimiter of(double perSecond, int burst, NanoClock clock) {
    return perSecond > 0 ? new ClientRateLimiter(perSecond, burst, clock) : null;
  }

  /**
   * Takes a token for a request from the address.
   *
   * @return 0 when the request may go on, else the nanoseconds until a token will be there
   */
  long acquire(String address) {
    long now = clock.nanoTime();
    return buckets.get(address, fullBucket).take(now, tokensPerNano, burst);
  }

  /** One address's tokens, refilled lazily when a request comes. */
  private static final class Bucket {
    private double tokens;
    private long stampNanos;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.stampNanos = now;
    }

    synchronized long take(long now, double tokensPerNano, double burst) {
      if (now > stampNanos) {
        tokens = Math.min(burst, tokens + (now - stampNanos) * tokensPerNano);
        stampNanos = now;
      }
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, (long) Math.ceil((1 - tokens) / tokensPerNano));
    }
  }
}
