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
  private final ConcurrentHashMap<String, Counter> byHedgeOutcome = new ConcurrentHashMap<>();
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

  /**
   * A hedged request's event, {@code meridian_hedges_total{route, outcome}}: {@code sent}, {@code won}
   * (it answered first), {@code failed} (it could not connect, or its connection closed before an
   * answer), and hedges not sent: {@code budget} (the retry budget was spent), {@code no-backend} (none
   * other in the target region), {@code backend-full} (its backend's limit was reached).
   */
  public void hedged(String outcome) {
    Counter counter = byHedgeOutcome.get(outcome);
    if (counter == null) {
      counter = byHedgeOutcome.computeIfAbsent(outcome, o -> Counter.builder("meridian.hedges")
          .description("Hedged requests: sent, won, failed, or not sent (budget, no-backend, backend-full)")
          .tag("route", route).tag("outcome", o).register(registry));
    }
    counter.increment();
  }

  /** A retry was refused: the budget is spent. */
  public void budgetExhausted() {
    budgetExhausted.increment();
  }
}
