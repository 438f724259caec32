package dev.meridian.tls;

import io.netty.handler.ssl.ClientAuth;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS settings of one listener.
 *
 * @param certificates the certificates served, chosen by SNI from the names inside each certificate;
 *     the first is the default (no SNI, or no name matches). At least one.
 * @param clientAuth whether clients must present a certificate: {@code NONE} (default),
 *     {@code OPTIONAL} or {@code REQUIRE}; the latter two need {@code clientCa}
 * @param clientCa PEM file of the CA certificates that client certificates must chain to
 * @param ocspResponse DER file of an OCSP response to staple (OpenSSL provider only), refreshed by
 *     whatever writes the file; empty means no stapling
 */
public record ServerTlsSettings(
        List<CertificatePair> certificates,
        ClientAuth clientAuth,
        Optional<Path> clientCa,
        Optional<Path> ocspResponse) {

    public ServerTlsSettings {
        certificates = List.copyOf(certificates);
        Objects.requireNonNull(clientAuth, "clientAuth");
        Objects.requireNonNull(clientCa, "clientCa");
        Objects.requireNonNull(ocspResponse, "ocspResponse");
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("certificates: [] (expected: at least one cert/key pair)");
        }
        if (clientAuth != ClientAuth.NONE && clientCa.isEmpty()) {
            throw new IllegalArgumentException(
                    "client-auth: " + clientAuth.name().toLowerCase() + " needs client-ca (a PEM file of CA certificates)");
        }
    }

    /** One certificate, no client authentication, no stapling. */
    public static ServerTlsSettings of(Path cert, Path key) {
        return new ServerTlsSettings(
                List.of(new CertificatePair(cert, key)), ClientAuth.NONE, Optional.empty(), Optional.empty());
    }
}
