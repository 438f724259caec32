package dev.meridian.proxy.cli;

import dev.meridian.proxy.ConfigReloader;
import dev.meridian.proxy.MeridianInstance;
import dev.meridian.proxy.config.InvalidConfigException;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meridian run -c FILE}: runs the proxy until SIGTERM or Ctrl-C, then drains and exits 0. The
 * file is watched (and SIGHUP reloads it): routes and backend groups change without a restart.
 */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Run Meridian with a configuration file until SIGTERM or Ctrl-C (drains, then exits 0).")
final class RunCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the HOCON configuration file")
  Path config;

  @Override
  public Integer call() throws Exception {
    MeridianSettings settings;
    try {
      settings = SettingsLoader.load(config);
    } catch (InvalidConfigException e) {
      System.err.println(e.getMessage());
      System.err.printf("%s: %d problem(s); not started%n", config, e.problems().size());
      return 1;
    }
    ShutdownSignal signal = ShutdownSignal.install();
    try (MeridianInstance instance = new MeridianInstance(settings);
        ConfigReloader reloader = new ConfigReloader(config, instance)) {
      instance.start();
      reloader.start(ConfigReloader.DEFAULT_POLL_INTERVAL);
      instance.reloadFrom(reloader);
      ShutdownSignal.onHangup(reloader::reloadSoon);
      ShutdownSignal.onUserSignal1(() -> LogFiles.reopen(instance.proxy()));
      System.out.printf("meridian running: %s%s%n", instance.listenerAddresses(),
          instance.adminAddress() == null ? "" : ", admin " + instance.adminAddress());
      signal.await();
      java.time.Duration drainTimeout = instance.proxy().settings().server().drainTimeout(); // a reload may change it
      // On stdout for a person at the terminal, and in the log, where a log pipeline sees when the drain began.
      System.out.printf("meridian: %s received, draining for up to %d ms%n", signal.name(),
          drainTimeout.toMillis());
      log.info("{} received: draining for up to {} ms (listeners closed, /readyz answers 503)", signal.name(),
          drainTimeout.toMillis());
      boolean drained = instance.stop(drainTimeout);
      System.out.println(drained ? "meridian: drained, bye" : "meridian: drain timeout passed, closed the rest");
      if (drained) {
        log.info("drained: every connection ended; exiting");
      } else {
        log.warn("drain timeout passed: the connections still open were closed; exiting");
      }
      return 0;
    }
  }
}
