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

  /**
   * Netty's buffer allocator takes a heap of 512 MiB or less for a low-memory machine (the
   * recommended {@code -Xmx512m} gives 491 MiB): its threads then share magazines instead of having
   * their own, and each buffer larger than its largest size class (a read of a large body) is
   * allocated, zeroed and freed anew. A proxy's buffers are direct memory, used by a few event-loop
   * threads, so Meridian turns that mode off. On 2026-12-05 this measured S1 x1.012 req/s (ab.sh,
   * both orders), 1 MiB bodies +1% (GET), +4% (POST) and +8% (GET over TLS), and the same memory
   * per idle connection (S7). {@code -Dio.netty.allocator.lowMemory=true} on the command line keeps
   * Netty's mode.
   */
  public static final String ALLOCATOR_LOW_MEMORY = "false";

  /**
   * Lets Netty make direct buffers without the JDK's cleaner and count them itself (with the jar's
   * {@code Add-Opens: java.base/java.nio}, which the constructor it needs requires). Otherwise every
   * direct allocation goes through {@code ByteBuffer.allocateDirect}, which, once direct memory is
   * full, runs a full collection and sleeps up to about a second before failing: on an event loop,
   * each failing read then stalls every connection of the loop, and a proxy whose memory a burst of
   * slow clients filled took hours to work off the requests queued meanwhile, SIGTERM included
   * (reproduced 2026-12-06). With Netty's count an allocation over the limit fails at once, the
   * connection that asked is closed, and the proxy serves again as soon as memory is freed.
   */
  public static final String TRY_REFLECTION_SET_ACCESSIBLE = "true";

  /** Runs the command line and exits with the command's exit code. */
  public static void main(String[] args) {
    defaultProperty("io.netty.leakDetection.samplingInterval", LEAK_SAMPLING_INTERVAL);
    defaultProperty("io.netty.allocator.lowMemory", ALLOCATOR_LOW_MEMORY);
    defaultProperty("io.netty.tryReflectionSetAccessible", TRY_REFLECTION_SET_ACCESSIBLE);
    System.exit(execute(args));
  }

  /** Sets a system property unless the command line gave it (before Netty's classes read it). */
  private static void defaultProperty(String name, String value) {
    if (System.getProperty(name) == null) {
      System.setProperty(name, value);
    }
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
