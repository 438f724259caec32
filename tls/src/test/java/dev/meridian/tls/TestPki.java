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

    X509Certificate caCert() {
        return caCert;
    }

    KeyPair caKeys() {
        return caKeys;
    }

    /**
     * Issues a leaf for {@code name} whose Authority Information Access names {@code ocspResponder},
     * into {@code base.pem} (leaf then CA) and {@code base.key}.
     */
    Issued issueWithOcspResponder(String base, String name, String ocspResponder) throws Exception {
        KeyPair keys = Certificates.newKeyPair();
        java.time.Instant now = java.time.Instant.now();
        var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(caCert,
                java.math.BigInteger.valueOf(now.toEpochMilli()), java.util.Date.from(now.minus(Duration.ofHours(1))),
                java.util.Date.from(now.plus(Duration.ofDays(1))), new javax.security.auth.x500.X500Principal("CN=" + name),
                keys.getPublic());
        builder.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
                        org.bouncycastle.asn1.x509.GeneralName.dNSName, name)));
        builder.addExtension(org.bouncycastle.asn1.x509.Extension.authorityInfoAccess, false,
                new org.bouncycastle.asn1.x509.AuthorityInformationAccess(
                        org.bouncycastle.asn1.x509.AccessDescription.id_ad_ocsp,
                        new org.bouncycastle.asn1.x509.GeneralName(
                                org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier, ocspResponder)));
        X509Certificate cert = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(
                builder.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                        .build(caKeys.getPrivate())));
        CertificatePair pair = new CertificatePair(dir.resolve(base + ".pem"), dir.resolve(base + ".key"));
        PemFiles.write(pair.cert(), cert, caCert);
        PemFiles.write(pair.key(), new JcaPKCS8Generator(keys.getPrivate(), null));
        return new Issued(pair, cert, keys);
    }

    /** Issues a leaf for {@code names} into {@code base.pem}/{@code base.key} (replacing them), CN = first name. */
    Issued issue(String base, String... names) throws IOException {
        return issue(Duration.ofDays(1), base, names);
    }

    /** As {@link #issue(String, String...)}, valid for {@code validity} from now. */
    Issued issue(Duration validity, String base, String... names) throws IOException {
        KeyPair keys = Certificates.newKeyPair();
        X509Certificate cert = Certificates.issue(keys, names[0], List.of(names), caCert, caKeys.getPrivate(), false,
                validity);
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
