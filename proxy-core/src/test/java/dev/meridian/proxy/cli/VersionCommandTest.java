package dev.meridian.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** What {@code meridian version} tells an operator about the build that runs. */
class VersionCommandTest {

  @Test
  void namesTheCommitTheBuildCameFromAndTheTlsLibrary() throws IOException {
    Properties build = new Properties();
    try (InputStream in = VersionCommand.class.getResourceAsStream("build-commit.properties")) {
      if (in != null) {
        build.load(in);
      }
    }
    assumeTrue(build.getProperty("git.commit.id.abbrev") != null, "built from sources without their git history");
    String[] lines = new VersionCommand.Provider().getVersion();

    assertThat(lines[0]).matches("meridian (\\S+|development build) \\(commit [0-9a-f]{7,} of \\d{4}-\\d\\d-\\d\\dT\\S+(, modified)?\\)");
    assertThat(lines[1]).startsWith("java 17");
    assertThat(lines[2]).matches("netty 4\\.2\\.\\d+\\.Final");
    assertThat(lines[3]).as("the TLS library the listeners use").startsWith("tls BoringSSL");
  }
}
