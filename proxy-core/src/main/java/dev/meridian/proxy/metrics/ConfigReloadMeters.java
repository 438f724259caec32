package dev.meridian.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the configuration reloads did, for an alert on a refused one (the file on disk then differs
 * from the configuration in force, and only the log says so):
 * {@code meridian_config_reloads_total{result="applied"|"refused"}},
 * {@code meridian_config_last_reload_successful} (1, or 0 while the last reload was refused) and
 * {@code meridian_config_last_reload_success_timestamp_seconds} (the start, until a reload is applied);
 * the names follow Prometheus's own {@code prometheus_config_last_reload_*}.
 */
public final class ConfigReloadMeters {
  private final Counter applied;
  private final Counter refused;
  private final AtomicLong lastSuccessful = new AtomicLong(1);
  private final AtomicLong lastSuccessMillis;

  ConfigReloadMeters(MeterRegistry registry, long startMillis) {
    this.lastSuccessMillis = new AtomicLong(startMillis);
    this.applied = Counter.builder("meridian.config.reloads").tag("result", "applied")
        .description("Configuration reloads (file change, SIGHUP, admin API) by result").register(registry);
    this.refused = Counter.builder("meridian.config.reloads").tag("result", "refused")
        .description("Configuration reloads (file change, SIGHUP, admin API) by result").register(registry);
    Gauge.builder("meridian.config.last.reload.successful", lastSuccessful, AtomicLong::get)
        .description("1 when the last reload was applied (or none was tried), 0 when it was refused")
        .register(registry);
    Gauge.builder("meridian.config.last.reload.success.timestamp.seconds", lastSuccessMillis, m -> m.get() / 1000.0)
        .description("Unix time the configuration in force was put in force (the start, or its last applied reload)")
        .register(registry);
  }

  /** A reload put the file in force at {@code epochMillis}. */
  public void applied(long epochMillis) {
    applied.increment();
    lastSuccessful.set(1);
    lastSuccessMillis.set(epochMillis);
  }

  /** A reload was refused (problems in the file, or it could not be put in force). */
  public void refused() {
    refused.increment();
    lastSuccessful.set(0);
  }
}
