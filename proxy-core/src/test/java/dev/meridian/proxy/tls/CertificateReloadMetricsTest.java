package dev.meridian.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import io.micrometer.core.instrument.FunctionCounter;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A TLS listener's certificate files, replaced on disk, are counted when put in force and when
 * refused (a broken file: the old certificate keeps serving), so an alert sees a failed rotation;
 * nothing in the metrics changed before.
 */
class CertificateReloadMetricsTest extends TlsProxyTest {
  private double reloads(String result) {
    FunctionCounter c = proxy.proxy().metrics().registry().find("meridian.tls.certificate.reloads")
        .tags("listener", "tls", "result", result).functionCounter();
    return c == null ? -1 : c.count();
  }

  @Test
  void replacedCertificatesAreCountedAppliedOrRefused() throws Exception {
    CertificatePair served = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("live")), "localhost");
    CertificatePair next = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("next")), "localhost");
    backend = TestBackend.start(TestBackend.ok("served"));
    startProxy("{ name = \"tls\", address = \"127.0.0.1:0\", tls { certificates = [\n"
        + "  { cert = \"" + served.cert() + "\", key = \"" + served.key() + "\" } ] } }", "", "cert-reload-metrics");
    assertThat(reloads("applied")).isZero();
    assertThat(reloads("refused")).isZero();

    Files.writeString(served.cert(), "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
    await().atMost(Duration.ofSeconds(15)).until(() -> reloads("refused") == 1);
    assertThat(reloads("applied")).isZero();

    Files.copy(next.key(), served.key(), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(next.cert(), served.cert(), StandardCopyOption.REPLACE_EXISTING);
    await().atMost(Duration.ofSeconds(15)).until(() -> reloads("applied") == 1);
  }
}
