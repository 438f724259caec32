package dev.meridian.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One route's retry counters: {@code meridian_retries_total{route, reason}} (a request sent again to
 * another backend, by the condition that allowed it: {@code connect-failure},
 * {@code reset-before-response}, {@code status} (a status the route's {@code retries.on} lists) or
 * {@code no-stream} (an HTTP/2 backend had no free stream)) and
 * {@code meridian_retry_budget_exhausted_total{route}} (a retry refused because the route's retry
 * budget was spent). Counters are made on first use and kept. Thread-safe.
 */
public final class RetryMeters {
  private final MeterRegistry registry;
  private final String route;
  private final ConcurrentHashMap<String, Counter> byReason = new ConcurrentHashMap<>();
  private final Counter budgetExhausted;

  RetryMeters(MeterRegistry registry, String route) {
    this.registry = registry;
    this.route = route;
    this.budgetExhausted = Counter.builder("meridian.retry.budget.exhausted")
        .description("Retries refused because the route's retry budget was spent")
        .tag("route", route).register(registry);
  }

  /** A request was sent again, for this reason. */
  public void retried(String reason) {
    Counter counter = byReason.get(reason);
    if (counter == null) {
      counter = byReason.computeIfAbsent(reason, r -> Counter.builder("meridian.retries")
          .description("Requests sent again to another backend, by the condition that allowed it")
          .tag("route", route).tag("reason", r).register(registry));
    }
    counter.increment();
  }

  /** A retry was refused: the budget is spent. */
  public void budgetExhausted() {
    budgetExhausted.increment();
  }
}
