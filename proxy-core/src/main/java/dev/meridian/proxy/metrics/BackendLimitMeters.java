package dev.meridian.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a group's per-backend limit ({@code backend-groups.NAME.limits}) did to requests:
 * {@code meridian_backend_limit_total{group, outcome}}, where the outcome is {@code spilled} (its
 * backend was full and another took it), {@code waited} (it waited in the queue and was sent),
 * {@code queue-full} or {@code queue-timeout} (answered 503). The gauge of requests waiting now,
 * {@code meridian_backend_queued{group}}, is registered with the group. Counters are made on first use
 * and kept. Thread-safe.
 */
public final class BackendLimitMeters {
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> byGroupAndOutcome = new ConcurrentHashMap<>();

  BackendLimitMeters(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Counts one request of the group that met a full backend, by what became of it. */
  public void outcome(String group, String outcome) {
    String key = group + '\0' + outcome;
    Counter counter = byGroupAndOutcome.get(key);
    if (counter == null) {
      counter = byGroupAndOutcome.computeIfAbsent(key, k -> Counter.builder("meridian.backend.limit")
          .description("Requests that met a backend at its group's limits.max-connections, by outcome")
          .tag("group", group).tag("outcome", outcome).register(registry));
    }
    counter.increment();
  }
}
