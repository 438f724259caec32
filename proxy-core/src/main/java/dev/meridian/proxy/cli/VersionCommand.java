package dev.meridian.proxy.cli;

import io.netty.handler.ssl.OpenSsl;
import io.netty.util.Version;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** {@code meridian version}: prints Meridian's version and commit, and Java's, Netty's and the TLS library's. */
@Command(name = "version", description = "Print the version and commit of Meridian, and of Java, Netty and the TLS library.")
final class VersionCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    for (String line : new Provider().getVersion()) {
      System.out.println(line);
    }
    return 0;
  }

  /** The version lines, shared with {@code meridian --version}. */
  static final class Provider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String meridian = MeridianCli.class.getPackage().getImplementationVersion();
      Version netty = Version.identify().get("netty-transport");
      return new String[] {
        "meridian " + (meridian == null ? "development build" : meridian) + commit(),
        "java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")",
        "netty " + (netty == null ? "unknown" : netty.artifactVersion()),
        "tls " + (OpenSsl.isAvailable() ? OpenSsl.versionString() : "the JDK's (BoringSSL unavailable: "
            + OpenSsl.unavailabilityCause() + ")")
      };
    }

    /**
     * " (commit abc1234 of 2026-12-07T07:03:13Z)", with ", modified" when the tree had uncommitted
     * changes; empty when the jar was built without its git history.
     */
    private static String commit() {
      Properties build = new Properties();
      try (InputStream in = VersionCommand.class.getResourceAsStream("build-commit.properties")) {
        if (in == null) {
          return "";
        }
        build.load(in);
      } catch (IOException e) {
        return "";
      }
      String id = build.getProperty("git.commit.id.abbrev");
      if (id == null || id.isEmpty()) {
        return "";
      }
      return " (commit " + id + " of " + build.getProperty("git.commit.time", "?")
          + ("true".equals(build.getProperty("git.dirty")) ? ", modified" : "") + ")";
    }
  }
}
