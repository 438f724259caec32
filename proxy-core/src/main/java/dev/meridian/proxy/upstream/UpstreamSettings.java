package dev.meridian.proxy.upstream;

import dev.meridian.proxy.transport.Transport;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.time.Duration;

/**
 * What upstream pools need to open and keep connections.
 *
 * @param transport              the socket transport
 * @param connectTimeout         TCP connect timeout
 * @param idleTimeout            an idle pooled connection is closed after this long
 * @param maxIdlePerBackend      idle connections kept per backend and event loop
 * @param writeBufferLow         low write watermark in bytes
 * @param writeBufferHigh        high write watermark in bytes
 * @param maxResponseLine        longest status line accepted from a backend
 * @param maxResponseHeaderBytes largest header section accepted from a backend
 * @param neverIndexed           which fields the HTTP/2 encoder never puts in the HPACK table
 */
public record UpstreamSettings(
    Transport transport,
    Duration connectTimeout,
    Duration idleTimeout,
    int maxIdlePerBackend,
    int writeBufferLow,
    int writeBufferHigh,
    int maxResponseLine,
    int maxResponseHeaderBytes,
    Http2HeadersEncoder.SensitivityDetector neverIndexed) {}
