package dev.meridian.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.InvalidConfigException;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS termination on a listener: ALPN h2 and http/1.1 to an HTTP/1.1 backend, and config checks. */
class TlsListenerTest {

  private static String config(int backendPort, CertificatePair cert) {
    return "meridian {\n"
        + "  listeners = [ { name = \"tls\", address = \"127.0.0.1:0\", tls { certificates = [ { cert = \""
        + cert.cert() + "\", key = \"" + cert.key() + "\" } ] } } ]\n"
        + "  admin { enabled = false }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + backendPort + "\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n";
  }

  private static String curl(String... args) throws Exception {
    Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  private static boolean curlInstalled() {
    return TlsListenerTestSupport.curlInstalled();
  }

  @Test
  void alpnNegotiatesHttp2AndHttp11AndSeesTheHttpsScheme(@TempDir Path dir) throws Exception {
    assumeTrue(curlInstalled(), "curl is installed by .ci/run");
    CertificatePair cert = SelfSignedCertificates.generate(dir, "localhost");
    try (TestBackend backend = TestBackend.start(TestBackend.echoHeaders())) {
      MeridianInstance proxy = new MeridianInstance(SettingsLoader.parse(config(backend.port(), cert), "tls")).start();
      try {
        int port = proxy.listenerAddresses().get(0).getPort();
        String url = "https://localhost:" + port + "/secure";
        String resolve = "localhost:" + port + ":127.0.0.1";
        String h2 = curl("curl", "-s", "--cacert", cert.cert().toString(), "--resolve", resolve, "--http2",
            "-w", "\\nversion=%{http_version}", url);
        assertThat(h2).contains("x-forwarded-proto: https").contains("proto=https").endsWith("version=2");
        String h1 = curl("curl", "-s", "--cacert", cert.cert().toString(), "--resolve", resolve, "--http1.1",
            "-w", "\\nversion=%{http_version}", url);
        assertThat(h1).contains("x-forwarded-proto: https").endsWith("version=1.1");
        String old = curl("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", cert.cert().toString(),
            "--resolve", resolve, "--tlsv1.1", "--tls-max", "1.1", url);
        assertThat(old).isEqualTo("000");
      } finally {
        proxy.stop(Duration.ZERO);
      }
    }
  }

  @Test
  void jdkHttpClientNegotiatesHttp2AndStreamsALargeBody(@TempDir Path dir) throws Exception {
    CertificatePair cert = SelfSignedCertificates.generate(dir, "127.0.0.1");
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (var in = Files.newInputStream(cert.cert())) {
      trust.setCertificateEntry("meridian", java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(in));
    }
    var trustManagers = javax.net.ssl.TrustManagerFactory.getInstance(
        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
    ssl.init(null, trustManagers.getTrustManagers(), null);
    byte[] body = new byte[2 * 1024 * 1024];
    new java.util.Random(3).nextBytes(body);
    try (TestBackend backend = TestBackend.start(TestBackend.echo())) {
      MeridianInstance proxy = new MeridianInstance(SettingsLoader.parse(config(backend.port(), cert), "tls")).start();
      try {
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().sslContext(ssl)
            .version(java.net.http.HttpClient.Version.HTTP_2).build();
        java.net.http.HttpResponse<byte[]> response = client.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("https://127.0.0.1:" + proxy.listenerAddresses().get(0).getPort() + "/echo"))
            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(body);
      } finally {
        proxy.stop(Duration.ZERO);
      }
    }
  }

  @Test
  void checkReportsAMissingOrMismatchedCertificate(@TempDir Path dir) throws Exception {
    CertificatePair one = SelfSignedCertificates.generate(Files.createDirectory(dir.resolve("one")), "a.test");
    CertificatePair two = SelfSignedCertificates.generate(Files.createDirectory(dir.resolve("two")), "b.test");
    CertificatePair mismatched = new CertificatePair(one.cert(), two.key());
    assertThatThrownBy(() -> SettingsLoader.parse(config(9000, mismatched), "tls.conf"))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("meridian.listeners[0].tls.certificates");
    CertificatePair missing = new CertificatePair(dir.resolve("nope.pem"), one.key());
    assertThatThrownBy(() -> SettingsLoader.parse(config(9000, missing), "tls.conf"))
        .hasMessageContaining("nope.pem");
    assertThat(List.of(one.cert(), one.key())).allMatch(Files::exists);
  }
}
