package dev.meridian.proxy.cli;

import dev.meridian.proxy.config.InvalidConfigException;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code meridian check -c FILE}: validates a configuration without starting anything. */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Validate a configuration file and exit: 0 when valid, 1 with every problem listed.")
final class CheckCommand implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the HOCON configuration file")
  Path config;

  @Override
  public Integer call() {
    try {
      MeridianSettings settings = SettingsLoader.load(config);
      System.out.printf("%s: OK (%d listener(s), %d backend group(s), %d route(s))%n", config,
          settings.listeners().size(), settings.backendGroups().size(), settings.routes().size());
      return 0;
    } catch (InvalidConfigException e) {
      System.err.println(e.getMessage());
      System.err.printf("%s: %d problem(s); nothing was started%n", config, e.problems().size());
      return 1;
    }
  }
}
