package dev.meridian.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A session made under one of a listener's certificates resumes only under that certificate
 * (RFC 6066 section 3): an a.test session offered with the SNI of b.test, which another
 * certificate serves, gets a full handshake (it was resumed, TLS 1.2 and 1.3 alike, since the
 * listener's certificates share their ticket keys). Tried with openssl s_client.
 */
class SessionResumptionScopeTest extends TlsProxyTest {
  private String sClient(String serverName, String version, Path session, boolean resume) throws Exception {
    List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port(0), "-servername", serverName, version, "-ign_eof",
        resume ? "-sess_in" : "-sess_out", session.toString()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + serverName + "\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  @Test
  void aSessionResumesOnlyUnderTheCertificateItWasMadeWith() throws Exception {
    assumeTrue(TlsListenerTestSupport.curlInstalled(), "openssl and curl are installed by .ci/run");
    CertificatePair a = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("a")), "a.test", "www.a.test");
    CertificatePair b = SelfSignedCertificates.generate(Files.createDirectories(dir.resolve("b")), "b.test");
    backend = TestBackend.start(TestBackend.ok("served"));
    startProxy("{ name = \"tls\", address = \"127.0.0.1:0\", tls { certificates = [\n"
        + "  { cert = \"" + a.cert() + "\", key = \"" + a.key() + "\" }\n"
        + "  { cert = \"" + b.cert() + "\", key = \"" + b.key() + "\" } ] } }", "", "resumption-scope");
    for (String version : List.of("-tls1_3", "-tls1_2")) {
      Path session = dir.resolve("a" + version + ".pem");
      assertThat(sClient("a.test", version, session, false)).contains("New, TLSv1.").contains("served");
      assertThat(sClient("www.a.test", version, session, true)).as("%s: the same certificate", version)
          .contains("Reused, TLSv1.").contains("served");
      assertThat(sClient("b.test", version, session, true)).as("%s: another certificate's name", version)
          .contains("New, TLSv1.").doesNotContain("Reused");
    }
  }
}
