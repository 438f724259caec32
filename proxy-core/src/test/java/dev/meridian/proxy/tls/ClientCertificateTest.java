package dev.meridian.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A listener with client-auth passes the certificate its handshake verified to the backend as RFC
 * 9440's Client-Cert, over HTTP/1.1 and HTTP/2 (tried with curl), and a client's own Client-Cert or
 * X-SSL-Client-* claim never reaches a backend.
 */
class ClientCertificateTest extends TlsProxyTest {
  private static String curl(String... args) throws Exception {
    Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  @Test
  void theVerifiedClientCertificateReachesTheBackendAndAClientsOwnClaimDoesNot() throws Exception {
    assumeTrue(TlsListenerTestSupport.curlInstalled(), "curl is installed by .ci/run");
    CertificatePair site = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("site")), "localhost");
    CertificatePair alice = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("alice")), "alice.test");
    backend = TestBackend.start(TestBackend.ok("seen"));
    startProxy("{ name = \"mtls\", address = \"127.0.0.1:0\", tls { certificates = [ { cert = \""
        + site.cert() + "\", key = \"" + site.key() + "\" } ], client-auth = optional, client-ca = \"" + alice.cert() + "\" } }\n"
        + "{ name = \"plain\", address = \"127.0.0.1:0\" }", "", "client-cert");
    String tls = "https://localhost:" + proxy.listenerAddresses().get(0).getPort() + "/";
    X509Certificate cert;
    try (InputStream in = Files.newInputStream(alice.cert())) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    String expected = ":" + Base64.getEncoder().encodeToString(cert.getEncoded()) + ":";
    String[] spoofs = {"-H", "Client-Cert: :ZXZpbA==:", "-H", "X-SSL-Client-S-DN: CN=admin", "-H", "X-Client-Verify: SUCCESS"};
    for (String version : new String[] {"--http1.1", "--http2"}) {
      assertThat(curl(concat(new String[] {"curl", "-sk", version, "--resolve", "localhost:"
          + proxy.listenerAddresses().get(0).getPort() + ":127.0.0.1", "--cert", alice.cert().toString(), "--key",
          alice.key().toString(), tls}, spoofs))).isEqualTo("seen");
    }
    assertThat(curl(concat(new String[] {"curl", "-sk", "--resolve", "localhost:"
        + proxy.listenerAddresses().get(0).getPort() + ":127.0.0.1", tls}, spoofs))).as("no certificate: optional").isEqualTo("seen");
    assertThat(curl(concat(new String[] {"curl", "-s", "http://127.0.0.1:" + proxy.listenerAddresses().get(1).getPort() + "/"},
        spoofs))).isEqualTo("seen");

    assertThat(backend.requests()).hasSize(4);
    for (int i = 0; i < 2; i++) {
      assertThat(backend.requests().get(i).header("client-cert")).as("HTTP/1.1 then HTTP/2").isEqualTo(expected);
    }
    for (int i = 0; i < 4; i++) {
      assertThat(backend.requests().get(i).headers().getAll("client-cert")).hasSizeLessThanOrEqualTo(1);
      assertThat(backend.requests().get(i).header("x-ssl-client-s-dn")).isNull();
      assertThat(backend.requests().get(i).header("x-client-verify")).isNull();
    }
    assertThat(backend.requests().get(2).header("client-cert")).as("no certificate, no claim").isNull();
    assertThat(backend.requests().get(3).header("client-cert")).as("cleartext").isNull();
  }

  /**
   * A request whose connection presented a verified certificate carries a credential: the cache
   * neither answers nor stores it (a backend authorising by Client-Cert would have had its answer
   * served to other clients), while the same URL without a certificate is cached.
   */
  @Test
  void aRequestWithAClientCertificateBypassesTheEdgeCache() throws Exception {
    assumeTrue(TlsListenerTestSupport.curlInstalled(), "curl is installed by .ci/run");
    CertificatePair site = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("site")), "localhost");
    CertificatePair alice = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("alice")), "alice.test");
    backend = TestBackend.start(request -> TestBackend.Reply.ok(request.header("client-cert") == null ? "anyone" : "alice's")
        .header("Cache-Control", "max-age=600"));
    startProxy("{ name = \"mtls\", address = \"127.0.0.1:0\", tls { certificates = [ { cert = \""
        + site.cert() + "\", key = \"" + site.key() + "\" } ], client-auth = optional, client-ca = \"" + alice.cert() + "\" } }",
        ", cache { ttl = 60s }", "client-cert-cache");
    int port = proxy.listenerAddresses().get(0).getPort();
    String[] base = {"curl", "-sk", "-D", "-", "--resolve", "localhost:" + port + ":127.0.0.1"};
    String url = "https://localhost:" + port + "/me";
    String withCert = curl(concat(base, new String[] {"--cert", alice.cert().toString(), "--key", alice.key().toString(), url}));
    assertThat(withCert).contains("alice's").containsIgnoringCase("x-cache: BYPASS");
    assertThat(curl(concat(base, new String[] {url}))).as("not alice's answer from the cache").contains("anyone")
        .containsIgnoringCase("x-cache: MISS");
    assertThat(curl(concat(base, new String[] {url}))).contains("anyone").containsIgnoringCase("x-cache: HIT");
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
