package dev.meridian.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** A test certificate authority that writes CA, leaf certificate and key PEM files into a directory. */
final class TestPki {
    private final Path dir;
    private final KeyPair caKeys = Certificates.newKeyPair();
    private final X509Certificate caCert;
    private final Path caFile;
    private long clock = System.currentTimeMillis();

    TestPki(Path dir, String caName) throws IOException {
        this.dir = dir;
        this.caCert = Certificates.issue(caKeys, caName, List.of(), null, null, true, Duration.ofDays(1));
        this.caFile = dir.resolve(caName + ".pem");
        PemFiles.write(caFile, caCert);
    }

    Path caFile() {
        return caFile;
    }

    /** Issues a leaf for {@code names} into {@code base.pem}/{@code base.key} (replacing them), CN = first name. */
    Issued issue(String base, String... names) throws IOException {
        KeyPair keys = Certificates.newKeyPair();
        X509Certificate cert = Certificates.issue(keys, names[0], List.of(names), caCert, caKeys.getPrivate(), false,
                Duration.ofDays(1));
        CertificatePair pair = new CertificatePair(dir.resolve(base + ".pem"), dir.resolve(base + ".key"));
        PemFiles.write(pair.cert(), cert, caCert);
        PemFiles.write(pair.key(), new JcaPKCS8Generator(keys.getPrivate(), null));
        touch(pair.cert());
        touch(pair.key());
        return new Issued(pair, cert, keys);
    }

    /** Gives {@code file} a modification time later than any before, so a poll sees the change. */
    void touch(Path file) throws IOException {
        clock += 2_000;
        Files.setLastModifiedTime(file, FileTime.fromMillis(clock));
    }

    record Issued(CertificatePair files, X509Certificate certificate, KeyPair keys) {}
}
