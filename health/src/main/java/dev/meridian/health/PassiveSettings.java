package dev.meridian.health;

import java.time.Duration;
import java.util.Objects;

/**
 * When passive outlier detection ejects a backend of a group, and for how long. Built by the proxy's
 * config reader; validated here. Passive detection is on by default ({@link #DEFAULTS}).
 *
 * @param consecutive5xx             5xx responses in a row that eject (a gateway failure counts as a
 *                                   5xx too); 0, the default, counts none: a 5xx is often the answer to
 *                                   one URL, and any client could eject healthy backends by asking for it
 * @param consecutiveGatewayFailures gateway failures in a row (connect refused, reset, timeout) that
 *                                   eject, default 3
 * @param baseEjectionTime           ejection time for the first ejection, default 30 s; the n-th
 *                                   ejection lasts n times this
 * @param maxEjectionTime            cap on one ejection's time, default 300 s
 * @param maxEjectionPercent         at most this share of the group ejected at once, default 50 (%);
 *                                   the last available backend is never ejected
 * @param latencyFactor              eject a backend whose latency EWMA stays above this many times the
 *                                   median of the group's other backends; 0 (default) = off, else > 1
 * @param latencyWindow              how long the latency must stay that high before ejection, default 30 s
 * @param ejectOnConnectRefused      a refused connection (nothing listens: the process died) ejects the
 *                                   backend at once, beyond {@code maxEjectionPercent} (the panic
 *                                   threshold guards against ejecting too much), default true
 */
public record PassiveSettings(
    int consecutive5xx,
    int consecutiveGatewayFailures,
    Duration baseEjectionTime,
    Duration maxEjectionTime,
    int maxEjectionPercent,
    double latencyFactor,
    Duration latencyWindow,
    boolean ejectOnConnectRefused) {

  /**
   * 3 gateway failures eject for 30 s x n (max 300 s), at most 50%; a refused connection ejects at
   * once; 5xx responses and latency outliers are not counted.
   */
  public static final PassiveSettings DEFAULTS = new PassiveSettings(0, 3, Duration.ofSeconds(30),
      Duration.ofSeconds(300), 50, 0, Duration.ofSeconds(30), true);

  /** Checks every value. */
  public PassiveSettings {
    ActiveCheckSettings.check(consecutive5xx >= 0, "consecutive-5xx: %s (expected: 0 = off, or >= 1)",
        consecutive5xx);
    ActiveCheckSettings.check(consecutiveGatewayFailures >= 1,
        "consecutive-gateway-failures: %s (expected: >= 1)", consecutiveGatewayFailures);
    Objects.requireNonNull(baseEjectionTime, "baseEjectionTime");
    Objects.requireNonNull(maxEjectionTime, "maxEjectionTime");
    Objects.requireNonNull(latencyWindow, "latencyWindow");
    ActiveCheckSettings.check(!baseEjectionTime.isNegative() && !baseEjectionTime.isZero(),
        "base-ejection-time: %s (expected: > 0)", baseEjectionTime);
    ActiveCheckSettings.check(maxEjectionTime.compareTo(baseEjectionTime) >= 0,
        "max-ejection-time: %s (expected: >= base-ejection-time)", maxEjectionTime);
    ActiveCheckSettings.check(maxEjectionPercent >= 0 && maxEjectionPercent <= 100,
        "max-ejection-percent: %s (expected: 0-100)", maxEjectionPercent);
    ActiveCheckSettings.check(latencyFactor == 0 || latencyFactor > 1,
        "latency-outlier.factor: %s (expected: 0 = off, or > 1)", latencyFactor);
    ActiveCheckSettings.check(!latencyWindow.isNegative(), "latency-outlier.window: %s (expected: >= 0)",
        latencyWindow);
  }

  /** Whether 5xx responses are counted toward an ejection. */
  public boolean counts5xx() {
    return consecutive5xx > 0;
  }

  /** Whether latency outliers are detected. */
  public boolean latencyOutliersEnabled() {
    return latencyFactor > 0;
  }
}
