package dev.meridian.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What happens at the client edge, per connection and per HTTP/2 stream rather than per request:
 * <ul>
 *   <li>{@code meridian_client_connections_accepted_total}: client connections accepted, whether or
 *       not they went on to complete a TLS handshake or send a request;</li>
 *   <li>{@code meridian_tls_handshakes_total{result}}: TLS handshakes, {@code ok} or why they failed
 *       ({@link #handshakeFailureReason});</li>
 *   <li>{@code meridian_http2_streams_total}: HTTP/2 streams clients opened;</li>
 *   <li>{@code meridian_http2_resets_total{direction}}: streams reset by the client
 *       ({@code received}) or by Meridian ({@code sent});</li>
 *   <li>{@code meridian_requests_limited_total{reason="client-rate"}}: requests answered 429 because
 *       their address was over {@code limits.client-request-rate};</li>
 *   <li>{@code meridian_client_send_timeouts_total}: responses cut off because their client read
 *       nothing of them for {@code timeouts.client-idle} (a slow reader);</li>
 *   <li>{@code meridian_http2_connection_buffer_full_total}: times an HTTP/2 client connection held
 *       back {@code limits.http2-connection-buffer} of response bytes for its client, and its
 *       streams' backends stopped being read until the client took some (each time: a large
 *       download from a backend faster than its client counts often; a steady rise with few bytes
 *       sent is a client holding its windows shut).</li>
 * </ul>
 * Thread-safe.
 */
public final class EdgeMeters {
  private final MeterRegistry registry;
  private final Counter accepted;
  private final Counter handshakesOk;
  private final ConcurrentHashMap<String, Counter> handshakeFailures = new ConcurrentHashMap<>();
  private final Counter streams;
  private final Counter resetsReceived;
  private final Counter resetsSent;
  private final Counter limited;
  private final Counter sendTimeouts;
  private final Counter http2BufferFull;

  EdgeMeters(MeterRegistry registry) {
    this.registry = registry;
    this.accepted = Counter.builder("meridian.client.connections.accepted")
        .description("Client connections accepted").register(registry);
    this.handshakesOk = handshakes("ok");
    this.streams = Counter.builder("meridian.http2.streams")
        .description("HTTP/2 streams opened by clients").register(registry);
    this.resetsReceived = resets("received");
    this.resetsSent = resets("sent");
    this.limited = Counter.builder("meridian.requests.limited")
        .description("Requests answered 429 because their client address was over its request rate")
        .tag("reason", "client-rate").register(registry);
    this.sendTimeouts = Counter.builder("meridian.client.send.timeouts")
        .description("Responses cut off because the client read nothing of them for timeouts.client-idle")
        .register(registry);
    this.http2BufferFull = Counter.builder("meridian.http2.connection.buffer.full")
        .description("Times an HTTP/2 client connection held back limits.http2-connection-buffer of response bytes")
        .register(registry);
  }

  /** An HTTP/2 client connection held back its budget of response bytes: its backends wait. */
  public void http2BufferFull() {
    http2BufferFull.increment();
  }

  /** A response was cut off: its client stopped reading it. */
  public void sendTimedOut() {
    sendTimeouts.increment();
  }

  /** A request was answered 429: its address was over its request rate. */
  public void requestLimited() {
    limited.increment();
  }

  private Counter handshakes(String result) {
    return Counter.builder("meridian.tls.handshakes").description("TLS handshakes with clients, by result")
        .tag("result", result).register(registry);
  }

  private Counter resets(String direction) {
    return Counter.builder("meridian.http2.resets").description("HTTP/2 streams reset, by who reset them")
        .tag("direction", direction).register(registry);
  }

  /** A client connection was accepted. */
  public void connectionAccepted() {
    accepted.increment();
  }

  /** A TLS handshake completed. */
  public void handshakeSucceeded() {
    handshakesOk.increment();
  }

  /**
   * A TLS handshake failed with this cause: counted by {@link #handshakeFailureReason}, which it returns.
   */
  public String handshakeFailed(Throwable cause) {
    String reason = handshakeFailureReason(cause);
    handshakeFailures.computeIfAbsent(reason, this::handshakes).increment();
    return reason;
  }

  /**
   * Why a TLS handshake failed, as an operator acts on it (a bounded set): {@code not-tls} (plain HTTP
   * or other bytes on a TLS port), {@code protocol-version} (TLS 1.1 or older), {@code no-shared-cipher}
   * (nor group or signature algorithm), {@code no-client-certificate} and {@code bad-client-certificate}
   * (client-auth: none given, or one that does not verify), {@code certificate-rejected-by-client} (the
   * client's alert: it does not trust this listener's certificate), {@code alpn}, {@code timeout},
   * {@code closed} (the client closed mid-handshake) or {@code other}. Read from BoringSSL's error names
   * in the cause's messages.
   */
  public static String handshakeFailureReason(Throwable cause) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.nio.channels.ClosedChannelException) {
        return "closed";
      }
      if (t instanceof io.netty.handler.ssl.NotSslRecordException) {
        return "not-tls";
      }
      if (t instanceof io.netty.handler.ssl.SslHandshakeTimeoutException) {
        return "timeout";
      }
      if (t instanceof java.security.cert.CertificateException) {
        return "bad-client-certificate"; // the client's chain did not verify against client-ca
      }
      text.append(t.getMessage()).append(' ');
    }
    String m = text.toString().toUpperCase(java.util.Locale.ROOT);
    if (m.contains("HTTP_REQUEST") || m.contains("WRONG_VERSION_NUMBER") || m.contains("HTTPS_PROXY_REQUEST")) {
      return "not-tls";
    }
    if (m.contains("UNSUPPORTED_PROTOCOL") || m.contains("PROTOCOL_VERSION")) {
      return "protocol-version";
    }
    if (m.contains("NO_SHARED_CIPHER") || m.contains("NO_SHARED_GROUP") || m.contains("NO_COMMON_SIGNATURE")
        || m.contains("HANDSHAKE_FAILURE_ON_CLIENT_HELLO")) {
      return "no-shared-cipher";
    }
    if (m.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE")) {
      return "no-client-certificate";
    }
    if (m.contains("CERTIFICATE_VERIFY_FAILED")) {
      return "bad-client-certificate";
    }
    if (m.contains("ALERT_UNKNOWN_CA") || m.contains("ALERT_BAD_CERTIFICATE") || m.contains("ALERT_CERTIFICATE_UNKNOWN")
        || m.contains("ALERT_CERTIFICATE_EXPIRED") || m.contains("ALERT_CERTIFICATE_REVOKED")
        || m.contains("ALERT_UNSUPPORTED_CERTIFICATE") || m.contains("ALERT_ACCESS_DENIED")) {
      return "certificate-rejected-by-client";
    }
    if (m.contains("NO_APPLICATION_PROTOCOL")) {
      return "alpn";
    }
    return "other";
  }

  /** A client closed the connection before its TLS handshake completed. */
  public void handshakeAbandoned() {
    handshakeFailures.computeIfAbsent("closed", this::handshakes).increment();
  }

  /** A client opened an HTTP/2 stream. */
  public void http2StreamOpened() {
    streams.increment();
  }

  /** A client reset an HTTP/2 stream. */
  public void http2ResetReceived() {
    resetsReceived.increment();
  }

  /** Meridian reset an HTTP/2 stream. */
  public void http2ResetSent() {
    resetsSent.increment();
  }
}
