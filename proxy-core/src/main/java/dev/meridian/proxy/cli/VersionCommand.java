package dev.meridian.proxy.cli;

import io.netty.util.Version;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** {@code meridian version}: prints Meridian's, Java's and Netty's versions. */
@Command(name = "version", description = "Print the version of Meridian, Java and Netty.")
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
        "meridian " + (meridian == null ? "development build" : meridian),
        "java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")",
        "netty " + (netty == null ? "unknown" : netty.artifactVersion())
      };
    }
  }
}
