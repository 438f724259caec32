package dev.meridian.proxy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code meridian} command line: {@code run}, {@code check}, {@code demo}, {@code drill} and {@code version}. */
@Command(
    name = "meridian",
    mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description = "Reverse proxy and global load balancer.",
    subcommands = {RunCommand.class, CheckCommand.class, DemoCommand.class, DrillCommand.class, VersionCommand.class})
public final class MeridianCli implements Runnable {

  /** Runs the command line and exits with the command's exit code. */
  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (for tests and embedding). */
  public static int execute(String... args) {
    return new CommandLine(new MeridianCli()).execute(args);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
