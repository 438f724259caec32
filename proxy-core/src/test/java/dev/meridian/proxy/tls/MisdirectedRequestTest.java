package dev.meridian.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A TLS listener with two sites' certificates, tried with curl: a request whose Host names the other
 * site than the connection's SNI is answered 421 over HTTP/1.1 and HTTP/2 and never reaches a
 * backend; the same site's host in any case and with a port, and a name the same certificate covers,
 * are served.
 */
class MisdirectedRequestTest {
  @TempDir
  Path dir;
  private TestBackend backend;
  private MeridianInstance proxy;
  private CertificatePair shop;
  private CertificatePair blog;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(TlsListenerTestSupport.curlInstalled(), "curl is installed by .ci/run");
    shop = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("shop")), "shop.test", "www.shop.test");
    blog = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("blog")), "blog.test");
    backend = TestBackend.start(TestBackend.ok("served"));
    proxy = new MeridianInstance(SettingsLoader.parse("meridian {\n"
        + "  listeners = [ { name = \"tls\", address = \"127.0.0.1:0\", tls { certificates = [\n"
        + "    { cert = \"" + shop.cert() + "\", key = \"" + shop.key() + "\" }\n"
        + "    { cert = \"" + blog.cert() + "\", key = \"" + blog.key() + "\" } ] } } ]\n"
        + "  admin { enabled = false }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + backend.port() + "\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n", "misdirected")).start();
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    if (backend != null) {
      backend.close();
    }
  }

  /** The status curl got for https://{sni}/ with the given Host header, over HTTP/1.1 or 2. */
  private String status(String sni, String host, String version) throws Exception {
    int port = proxy.listenerAddresses().get(0).getPort();
    Process p = new ProcessBuilder("curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", version,
        "--resolve", sni + ":" + port + ":127.0.0.1", "-H", "Host: " + host, "https://" + sni + ":" + port + "/")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  /**
   * A server name the JDK's SNIHostName refuses (an underscore) is still a client's SNI: its first
   * request was lost (the connection closed unanswered, an HTTP/2 stream cancelled), and the 421
   * check must still see it.
   */
  @ParameterizedTest
  @ValueSource(strings = {"--http1.1", "--http2"})
  void aServerNameWithAnUnderscoreIsServedAndStillCheckedForFronting(String version) throws Exception {
    assertThat(status("a_b.shop.test", "a_b.shop.test", version)).isEqualTo("200");
    assertThat(status("a_b.shop.test", "blog.test", version)).isEqualTo("421");
    assertThat(backend.requests()).hasSize(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"--http1.1", "--http2"})
  void aHostOfAnotherCertificateIs421AndNeverForwarded(String version) throws Exception {
    assertThat(status("shop.test", "blog.test", version)).isEqualTo("421");
    assertThat(status("blog.test", "shop.test", version)).isEqualTo("421");
    assertThat(backend.requests()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"--http1.1", "--http2"})
  void theSameSiteOrANameOfTheSameCertificateIsServed(String version) throws Exception {
    assertThat(status("shop.test", "shop.test", version)).isEqualTo("200");
    assertThat(status("shop.test", "SHOP.test:443", version)).isEqualTo("200");
    assertThat(status("shop.test", "www.shop.test", version)).as("one certificate, both names").isEqualTo("200");
    assertThat(status("blog.test", "blog.test.", version)).isEqualTo("200");
  }
}
