package dev.meridian.tls;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS settings for connections to one backend group.
 *
 * @param enabled whether backends are reached over TLS (default false)
 * @param trust PEM file of the CA certificates to trust; empty means the JDK's system trust store
 * @param serverName name sent as SNI and checked against the backend's certificate; empty means the
 *     backend's host as configured
 * @param verifyHostname whether the backend certificate must match the server name (default true);
 *     the chain is always verified
 * @param clientCert PEM certificate chain presented to backends (mTLS); needs {@code clientKey}
 * @param clientKey PEM private key for {@code clientCert}
 */
public record UpstreamTlsSettings(
        boolean enabled,
        Optional<Path> trust,
        Optional<String> serverName,
        boolean verifyHostname,
        Optional<Path> clientCert,
        Optional<Path> clientKey) {

    /** TLS off. */
    public static final UpstreamTlsSettings DISABLED = new UpstreamTlsSettings(
            false, Optional.empty(), Optional.empty(), true, Optional.empty(), Optional.empty());

    public UpstreamTlsSettings {
        Objects.requireNonNull(trust, "trust");
        Objects.requireNonNull(serverName, "serverName");
        Objects.requireNonNull(clientCert, "clientCert");
        Objects.requireNonNull(clientKey, "clientKey");
        if (clientCert.isPresent() != clientKey.isPresent()) {
            throw new IllegalArgumentException("client-cert and client-key must be set together");
        }
    }

    /** TLS on with the system trust store, hostname verification and no client certificate. */
    public static UpstreamTlsSettings systemTrust() {
        return new UpstreamTlsSettings(true, Optional.empty(), Optional.empty(), true, Optional.empty(), Optional.empty());
    }
}
