package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.DiscoverySettings;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A source that asks DNS, reports the backends of the answer and asks again when the answer's TTL
 * runs out, bounded by {@code discovery.dns.min-ttl} and {@code max-ttl}; after a failure (an error,
 * NXDOMAIN, no records) it reports the failure and asks again after {@code min-ttl}. Everything runs on
 * the resolver's event loop.
 */
abstract class DnsRefreshingSource implements BackendSource {
  private final DnsLookup lookup;
  private final DiscoverySettings settings;
  private BackendSource.Listener listener;
  private ScheduledFuture<?> next;
  private volatile boolean closed;

  DnsRefreshingSource(DnsLookup lookup, DiscoverySettings settings) {
    this.lookup = lookup;
    this.settings = settings;
  }

  /** Asks DNS once: the backends of the answer, sorted by id, with the answer's TTL. */
  abstract Future<DnsLookup.Answer<BackendSettings>> lookUp(DnsLookup dns);

  @Override
  public final void start(BackendSource.Listener listener) {
    this.listener = listener;
    lookup.loop().execute(this::refresh);
  }

  private void refresh() {
    if (closed) {
      return;
    }
    lookUp(lookup).addListener(f -> {
      if (closed) {
        return;
      }
      long delayNanos;
      if (f.isSuccess()) {
        @SuppressWarnings("unchecked")
        DnsLookup.Answer<BackendSettings> answer = (DnsLookup.Answer<BackendSettings>) f.getNow();
        listener.found(answer.values());
        delayNanos = refreshDelayNanos(answer.ttlSeconds(), settings);
      } else {
        listener.failed(describe(f.cause()));
        delayNanos = settings.minTtl().toNanos();
      }
      next = lookup.loop().schedule(this::refresh, delayNanos, TimeUnit.NANOSECONDS);
    });
  }

  /** When to ask again after an answer whose TTL is {@code ttlSeconds}: the TTL within [min-ttl, max-ttl]. */
  static long refreshDelayNanos(long ttlSeconds, DiscoverySettings settings) {
    long ttl = TimeUnit.SECONDS.toNanos(Math.max(0, Math.min(ttlSeconds, Integer.MAX_VALUE)));
    return Math.max(settings.minTtl().toNanos(), Math.min(settings.maxTtl().toNanos(), ttl));
  }

  /** A failure as one line: the resolver's message, and the root cause's (a timeout, SERVFAIL) when there is one. */
  static String describe(Throwable cause) {
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
    return root == cause ? message : message + " (" + (root.getMessage() != null ? root.getMessage() : root) + ")";
  }

  /** A future completing with {@code convert} of {@code answer}'s value, or with its failure. */
  static <A, B> Future<B> map(DnsLookup dns, Future<A> answer, java.util.function.Function<A, B> convert) {
    io.netty.util.concurrent.Promise<B> promise = dns.loop().newPromise();
    answer.addListener(f -> {
      if (f.isSuccess()) {
        @SuppressWarnings("unchecked")
        A value = (A) f.getNow();
        promise.setSuccess(convert.apply(value));
      } else {
        promise.setFailure(f.cause());
      }
    });
    return promise;
  }

  /** Sorts backends by id, so that the same answer in another order is the same list. */
  static List<BackendSettings> sorted(List<BackendSettings> backends) {
    return backends.stream().sorted(Comparator.comparing(BackendSettings::id)).toList();
  }

  @Override
  public final void close() {
    closed = true;
    lookup.loop().execute(() -> {
      if (next != null) {
        next.cancel(false);
      }
      lookup.close();
    });
  }
}
