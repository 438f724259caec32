package dev.meridian.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.SettingsLoader;
import dev.meridian.proxy.testing.TestBackend;
import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.SelfSignedCertificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS listener as an operator checks it from outside: {@code openssl s_client} resumes a session
 * (TLS 1.3 tickets and TLS 1.2), and testssl (installed by .ci/run) finds no vulnerability and no
 * protocol below TLS 1.2. The configuration names its certificate by a path relative to the
 * configuration file.
 */
class TlsSessionAndScanTest {
  @TempDir
  Path dir;
  private TestBackend backend;
  private MeridianInstance proxy;
  private int port;

  @BeforeEach
  void start() throws Exception {
    backend = TestBackend.start(TestBackend.ok("tls backend"));
    CertificatePair cert = SelfSignedCertificates.generate(dir.resolve("certs"), "localhost");
    assertThat(cert.cert()).startsWith(dir.resolve("certs"));
    Path config = Files.writeString(dir.resolve("meridian.conf"), "meridian {\n"
        + "  listeners = [ { name = \"tls\", address = \"127.0.0.1:0\", tls { certificates = [ {\n"
        + "    cert = \"certs/" + cert.cert().getFileName() + "\", key = \"certs/" + cert.key().getFileName()
        + "\" } ] } } ]\n"
        + "  admin { enabled = false }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:" + backend.port() + "\" } ] } }\n"
        + "  routes = [ { name = \"all\", path-prefix = \"/\", backend-group = \"app\" } ]\n"
        + "}\n");
    // Loaded from a file whose directory is not the working directory: "certs/..." resolves beside it.
    proxy = new MeridianInstance(SettingsLoader.load(config)).start();
    port = proxy.listenerAddresses().get(0).getPort();
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.stop(Duration.ZERO);
    }
    backend.close();
  }

  private static boolean installed(String... versionCommand) {
    try {
      return new ProcessBuilder(versionCommand).start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private static String run(List<String> command, String stdin, int timeoutSeconds) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().write(stdin.getBytes(StandardCharsets.US_ASCII));
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }

  /** One s_client connection sending a request (so TLS 1.3 tickets are read); returns its output. */
  private String sClient(String version, Path session, boolean resume) throws Exception {
    List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
        "-servername", "localhost", version, "-ign_eof"));
    command.addAll(List.of(resume ? "-sess_in" : "-sess_out", session.toString()));
    return run(command, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 30);
  }

  @Test
  void opensslResumesSessionsOverTls13AndTls12() throws Exception {
    assumeTrue(installed("openssl", "version"), "openssl is part of the base system");
    for (String version : List.of("-tls1_3", "-tls1_2")) {
      Path session = dir.resolve("session" + version + ".pem");
      String first = sClient(version, session, false);
      assertThat(first).contains("tls backend").contains("New, TLSv1.");
      String second = sClient(version, session, true);
      assertThat(second).as("resumed with %s", version).contains("Reused, TLSv1.").contains("tls backend");
    }
  }

  @Test
  void testsslFindsNoVulnerabilityAndNothingBelowTls12() throws Exception {
    assumeTrue(installed("testssl", "--version"), "testssl (package testssl.sh) is installed by .ci/run");
    Path json = dir.resolve("testssl.json");
    String report = run(List.of("testssl", "--quiet", "--color", "0", "--warnings", "off", "--fast",
        "--protocols", "--vulnerable", "--jsonfile", json.toString(), "127.0.0.1:" + port), "", 600);
    String findings = Files.readString(json);
    assertThat(findings).as(report).contains("\"id\"");
    // Protocols: SSLv2, SSLv3, TLS 1.0 and 1.1 not offered; TLS 1.2 and 1.3 offered.
    assertThat(findings).containsPattern("\"id\"\\s*:\\s*\"TLS1\"[^}]*\"finding\"\\s*:\\s*\"not offered\"");
    assertThat(findings).containsPattern("\"id\"\\s*:\\s*\"TLS1_1\"[^}]*\"finding\"\\s*:\\s*\"not offered\"");
    assertThat(findings).containsPattern("\"id\"\\s*:\\s*\"TLS1_3\"[^}]*\"finding\"\\s*:\\s*\"offered with final\"");
    // No finding rated worse than INFO/OK among the vulnerability checks.
    assertThat(findings).doesNotContainPattern("\"severity\"\\s*:\\s*\"(LOW|MEDIUM|HIGH|CRITICAL)\"");
  }
}
