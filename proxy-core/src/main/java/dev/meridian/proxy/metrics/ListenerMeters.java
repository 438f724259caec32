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
 *       of its certificates expires.</li>
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

  /** Removes the certificate-expiry gauge: a reload made the listener cleartext. */
  public synchronized void closeCertificateExpiry() {
    if (certificateExpiry != null) {
      registry.remove(certificateExpiry);
      certificateExpiry = null;
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
