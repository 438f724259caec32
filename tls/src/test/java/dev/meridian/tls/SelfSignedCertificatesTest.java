package dev.meridian.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SelfSignedCertificatesTest {
    @TempDir
    Path dir;

    @Test
    void writesAServableCertificateForTheGivenNames() throws Exception {
        CertificatePair pair = SelfSignedCertificates.generate(dir.resolve("demo"), "localhost", "127.0.0.1");
        assertThat(Files.readString(pair.key())).startsWith("-----BEGIN PRIVATE KEY-----");
        ServerTlsContexts contexts = ServerTlsContexts.build(ServerTlsSettings.of(pair.cert(), pair.key()));
        assertThat(contexts.hostNames()).containsExactly(List.of("localhost"));
        assertThat(contexts.certificateFor(null).getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
    }

    @Test
    void readsPkcs1RsaKeysAndCommonNameOnlyCertificates() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair rsa = generator.generateKeyPair();
        X509Certificate cert = Certificates.issue(rsa, "legacy.test", List.of(), null, null, false, Duration.ofDays(1));
        Path certFile = dir.resolve("legacy.pem");
        Path keyFile = dir.resolve("legacy.key");
        PemFiles.write(certFile, cert);
        PemFiles.write(keyFile, rsa.getPrivate()); // traditional PKCS#1 encoding
        assertThat(Files.readString(keyFile)).startsWith("-----BEGIN RSA PRIVATE KEY-----");

        PrivateKey key = PemFiles.readPrivateKey(keyFile);
        assertThat(key.getEncoded()).isEqualTo(rsa.getPrivate().getEncoded());
        ServerTlsContexts contexts = ServerTlsContexts.build(ServerTlsSettings.of(certFile, keyFile));
        assertThat(contexts.hostNames()).containsExactly(List.of("legacy.test"));
    }

    @Test
    void explainsMissingAndEmptyFiles() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertThatThrownBy(() -> PemFiles.readCertificates(empty)).hasMessageContaining("no certificate found");
        assertThatThrownBy(() -> PemFiles.readPrivateKey(empty)).hasMessageContaining("no private key found");
        assertThatThrownBy(() -> PemFiles.readCertificates(dir.resolve("absent.pem")))
                .isInstanceOf(TlsConfigException.class).hasMessageContaining("absent.pem");
    }
}
