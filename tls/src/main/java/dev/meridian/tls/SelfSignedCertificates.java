package dev.meridian.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** Self-signed certificates for {@code meridian demo} and local testing; never for production. */
public final class SelfSignedCertificates {
    /** Validity of generated certificates: 30 days. */
    public static final Duration VALIDITY = Duration.ofDays(30);

    private SelfSignedCertificates() {}

    /**
     * Writes {@code dir/cert.pem} and {@code dir/key.pem} (PKCS#8, owner-only where the file system
     * allows): an EC P-256 certificate for {@code names} (DNS names or IP addresses; default
     * {@code localhost} and {@code 127.0.0.1}), the first name as its CN. Creates {@code dir} if needed.
     */
    public static CertificatePair generate(Path dir, String... names) throws IOException {
        List<String> all = names.length == 0 ? List.of("localhost", "127.0.0.1") : List.of(names);
        Files.createDirectories(dir);
        KeyPair keyPair = Certificates.newKeyPair();
        X509Certificate certificate = Certificates.issue(keyPair, all.get(0), all, null, null, false, VALIDITY);
        CertificatePair pair = new CertificatePair(dir.resolve("cert.pem"), dir.resolve("key.pem"));
        PemFiles.write(pair.key(), new JcaPKCS8Generator(keyPair.getPrivate(), null));
        try {
            Files.setPosixFilePermissions(pair.key(), PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: leave the default permissions
        }
        PemFiles.write(pair.cert(), certificate);
        return pair;
    }
}
