package dev.meridian.proxy;

import dev.meridian.proxy.config.InvalidConfigException;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.SettingsLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the configuration file and reloads a running instance when it changes: a valid file is put
 * in force without dropping connections; a broken one is refused with every problem logged
 * ({@code file: line: key: ...}) and the configuration in force keeps serving.
 *
 * <p>Polls the file's modification time and size (default every 2 seconds); {@link #checkNow()} checks
 * at once (SIGHUP and tests).
 */
public final class ConfigReloader implements AutoCloseable {
  /** Default time between checks of the file. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(2);
  private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

  private final Path file;
  private final MeridianInstance instance;
  private ScheduledExecutorService poller;
  private FileTime lastModified;
  private long lastSize;

  /** Creates a reloader for the instance started from {@code file}. */
  public ConfigReloader(Path file, MeridianInstance instance) {
    this.file = file;
    this.instance = instance;
    remember();
  }

  /** Starts polling the file. */
  public ConfigReloader start(Duration interval) {
    poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "meridian-config-watch");
      t.setDaemon(true);
      return t;
    });
    poller.scheduleWithFixedDelay(this::checkIfChanged, interval.toMillis(), interval.toMillis(),
        TimeUnit.MILLISECONDS);
    return this;
  }

  private void checkIfChanged() {
    try {
      if (!Files.getLastModifiedTime(file).equals(lastModified) || Files.size(file) != lastSize) {
        checkNow();
      }
    } catch (IOException e) {
      log.warn("{}: cannot read the configuration file ({}); keeping the configuration in force", file,
          e.getMessage());
    } catch (RuntimeException e) {
      log.error("{}: reload failed; keeping the configuration in force", file, e);
    }
  }

  /** What a reload did: put the file in force, or refused it for these problems ({@code file: line: key: ...}). */
  public record Outcome(boolean applied, java.util.List<String> problems) {}

  /**
   * Loads the file and, when it is valid, puts it in force.
   *
   * @return whether the new configuration is now in force
   */
  public boolean checkNow() {
    return reload().applied();
  }

  /** Loads the file and, when it is valid, puts it in force; says which, and why not. */
  public synchronized Outcome reload() {
    remember();
    MeridianSettings next;
    try {
      next = SettingsLoader.load(file);
    } catch (InvalidConfigException e) {
      for (var problem : e.problems()) {
        log.error("{}", problem);
      }
      log.error("{}: {} problem(s); the new configuration was refused and the one in force keeps serving",
          file, e.problems().size());
      return new Outcome(false, e.problems().stream().map(Object::toString).toList());
    }
    instance.proxy().reload(next);
    return new Outcome(true, java.util.List.of());
  }

  private void remember() {
    try {
      lastModified = Files.getLastModifiedTime(file);
      lastSize = Files.size(file);
    } catch (IOException e) {
      lastModified = null;
      lastSize = -1;
    }
  }

  @Override
  public void close() {
    if (poller != null) {
      poller.shutdownNow();
    }
  }
}
