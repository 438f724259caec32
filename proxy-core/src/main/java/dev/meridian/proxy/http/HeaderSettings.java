package dev.meridian.proxy.http;

/**
 * Which headers the proxy adds to what it forwards ({@code meridian.headers}); read from the
 * configuration by the config package, used by the head rewriters here.
 *
 * @param via             the pseudonym in {@code Via}, empty to not add Via
 * @param xForwarded      add X-Forwarded-For, -Proto and -Host
 * @param forwarded       add the RFC 7239 {@code Forwarded} header
 * @param requestIdHeader name of the request id header, kept when well-formed, else generated
 */
public record HeaderSettings(String via, boolean xForwarded, boolean forwarded, String requestIdHeader) {}
