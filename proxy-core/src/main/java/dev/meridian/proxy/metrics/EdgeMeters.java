package dev.meridian.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What happens at the client edge, per connection and per HTTP/2 stream rather than per request:
 * <ul>
 *   <li>{@code meridian_client_connections_accepted_total}: client connections accepted, whether or
 *       not they went on to complete a TLS handshake or send a request;</li>
 *   <li>{@code meridian_tls_handshakes_total{result}}: TLS handshakes, {@code ok} or why they failed:
 *       {@code closed} (the client closed mid-handshake) or the failure's exception class, such as
 *       {@code SSLHandshakeException} or {@code NotSslRecordException};</li>
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
   * A TLS handshake failed with this cause, counted by its class's simple name (a bounded set), or
   * {@code closed} when the client closed the connection mid-handshake.
   */
  public void handshakeFailed(Throwable cause) {
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root && root instanceof io.netty.handler.codec.DecoderException) {
      root = root.getCause();
    }
    String result = root instanceof java.nio.channels.ClosedChannelException ? "closed" : root.getClass().getSimpleName();
    handshakeFailures.computeIfAbsent(result, this::handshakes).increment();
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
