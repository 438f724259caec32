package dev.meridian.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/** What {@code meridian version} tells an operator about the build that runs. */
class VersionCommandTest {

  @Test
  void namesTheCommitTheBuildCameFromAndTheTlsLibrary() {
    assumeTrue(VersionCommand.class.getResource("build-commit.properties") != null,
        "built from sources without their git history");
    String[] lines = new VersionCommand.Provider().getVersion();

    assertThat(lines[0]).matches("meridian (\\S+|development build) \\(commit [0-9a-f]{7,} of \\d{4}-\\d\\d-\\d\\dT\\S+(, modified)?\\)");
    assertThat(lines[1]).startsWith("java 17");
    assertThat(lines[2]).matches("netty 4\\.2\\.\\d+\\.Final");
    assertThat(lines[3]).as("the TLS library the listeners use").startsWith("tls BoringSSL");
  }
}
