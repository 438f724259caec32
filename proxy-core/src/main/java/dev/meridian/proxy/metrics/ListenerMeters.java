package dev.meridian.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.IntSupplier;

/**
 * One listener's connection limits at work, each tagged with {@code listener}:
 * <ul>
 *   <li>{@code meridian_listener_connections}: client connections open on it;</li>
 *   <li>{@code meridian_listener_accept_paused_total}: times it reached {@code limits.max-connections}
 *       and stopped accepting (new connections waited in the kernel's queue);</li>
 *   <li>{@code meridian_listener_connections_refused_total{reason}}: connections closed on arrival,
 *       {@code per-client} for {@code limits.max-connections-per-client};</li>
 *   <li>{@code meridian_tls_certificate_expiry_timestamp_seconds}: on a TLS listener, when the first
 *       of its certificates expires;</li>
 *   <li>{@code meridian_tls_certificate_reloads_total{result="applied"|"refused"}}: on a TLS listener,
 *       replaced certificate files put in force, and refused (a key that does not match, a broken
 *       file: the previous certificates keep serving), so an alert sees a rotation that failed.</li>
 * </ul>
 * Thread-safe.
 */
public final class ListenerMeters {
  private final MeterRegistry registry;
  private final String listener;
  private final Counter paused;
  private final Counter refusedPerClient;
  private Gauge open;
  private Gauge certificateExpiry;
  private io.micrometer.core.instrument.FunctionCounter reloadsApplied;
  private io.micrometer.core.instrument.FunctionCounter reloadsRefused;
  /** The suppliers the reload counters read (a function counter holds its object weakly). */
  private java.util.function.LongSupplier appliedSource;
  private java.util.function.LongSupplier refusedSource;

  ListenerMeters(MeterRegistry registry, String listener) {
    this.registry = registry;
    this.listener = listener;
    this.paused = Counter.builder("meridian.listener.accept.paused")
        .description("Times the listener reached its connection limit and stopped accepting")
        .tag("listener", listener).register(registry);
    this.refusedPerClient = Counter.builder("meridian.listener.connections.refused")
        .description("Client connections closed on arrival, by the limit that refused them")
        .tag("listener", listener).tag("reason", "per-client").register(registry);
  }

  /**
   * Registers the gauge of the listener's open connections, read from {@code open} (held strongly,
   * until {@link #closeGauges()}).
   */
  public synchronized void openConnections(IntSupplier open) {
    this.open = Gauge.builder("meridian.listener.connections", open, IntSupplier::getAsInt)
        .description("Client connections open on the listener").tag("listener", listener)
        .strongReference(true).register(registry);
  }

  /**
   * Registers {@code meridian_tls_certificate_expiry_timestamp_seconds{listener}}, the Unix time the
   * first of the listener's certificates expires, read from {@code expiry} (held strongly, until
   * {@link #closeGauges()}); once per listener, so a reload that keeps the listener keeps the gauge.
   */
  public synchronized void certificateExpiry(java.util.function.DoubleSupplier expiry) {
    if (certificateExpiry == null) {
      certificateExpiry = Gauge.builder("meridian.tls.certificate.expiry.timestamp.seconds", expiry,
              java.util.function.DoubleSupplier::getAsDouble)
          .description("Unix time the first of the listener's certificates expires")
          .tag("listener", listener).strongReference(true).register(registry);
    }
  }

  /**
   * Registers {@code meridian_tls_certificate_reloads_total{listener,result}}, read from
   * {@code applied} and {@code refused} (held strongly, counting across the certificate watchers a
   * config reload replaces); once per listener.
   */
  public synchronized void certificateReloads(java.util.function.LongSupplier applied,
      java.util.function.LongSupplier refused) {
    if (reloadsApplied == null) {
      appliedSource = applied;
      refusedSource = refused;
      reloadsApplied = reloads("applied", applied);
      reloadsRefused = reloads("refused", refused);
    }
  }

  private io.micrometer.core.instrument.FunctionCounter reloads(String result, java.util.function.LongSupplier count) {
    return io.micrometer.core.instrument.FunctionCounter.builder("meridian.tls.certificate.reloads", count,
            c -> c.getAsLong())
        .description("Replaced certificate files of the listener, put in force or refused")
        .tag("listener", listener).tag("result", result).register(registry);
  }

  /** Removes the certificate meters: a reload made the listener cleartext. */
  public synchronized void closeCertificateExpiry() {
    if (certificateExpiry != null) {
      registry.remove(certificateExpiry);
      certificateExpiry = null;
    }
    if (reloadsApplied != null) {
      registry.remove(reloadsApplied);
      registry.remove(reloadsRefused);
      reloadsApplied = null;
      reloadsRefused = null;
      appliedSource = null;
      refusedSource = null;
    }
  }

  /**
   * Removes the listener's gauges: the listener was closed by a reload, and one bound again under its
   * name registers its own.
   */
  public synchronized void closeGauges() {
    if (open != null) {
      registry.remove(open);
      open = null;
    }
    closeCertificateExpiry();
  }

  /** The listener stopped accepting at its limit. */
  public void acceptPaused() {
    paused.increment();
  }

  /** A connection was closed on arrival: its address held {@code limits.max-connections-per-client}. */
  public void refusedPerClient() {
    refusedPerClient.increment();
  }
}
