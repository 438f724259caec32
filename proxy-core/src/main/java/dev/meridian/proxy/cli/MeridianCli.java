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

  /**
   * Netty's leak detector samples one buffer in this many (Netty's own default is 128). Tracking a
   * buffer records a stack trace at allocation and at each touch, which at 128 cost about 4% of the
   * event loop's CPU on the forwarding path; one in 4096 still reports a leak that repeats, at a
   * thirty-second of that cost. The tests run at PARANOID (every buffer); an operator chasing a leak
   * sets {@code -Dio.netty.leakDetection.samplingInterval} (or {@code .level}) on the command line.
   */
  public static final String LEAK_SAMPLING_INTERVAL = "4096";

  /** Runs the command line and exits with the command's exit code. */
  public static void main(String[] args) {
    if (System.getProperty("io.netty.leakDetection.samplingInterval") == null) {
      System.setProperty("io.netty.leakDetection.samplingInterval", LEAK_SAMPLING_INTERVAL);
    }
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (for tests and embedding). */
  public static int execute(String... args) {
    return new CommandLine(new MeridianCli())
        .setExecutionExceptionHandler((e, command, parsed) -> {
          if (e instanceof dev.meridian.proxy.server.ListenerUnavailableException unavailable) {
            command.getErr().println("meridian: " + unavailable.getMessage());
            return 1;
          }
          throw e;
        })
        .execute(args);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
