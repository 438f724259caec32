package dev.meridian.tls;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A certificate chain file and its private key file, both PEM. The chain starts with the leaf; the key
 * may be PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1
 * ({@code BEGIN EC PRIVATE KEY}); encrypted keys are not supported.
 */
public record CertificatePair(Path cert, Path key) {
    public CertificatePair {
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
    }
}
