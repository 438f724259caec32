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
 * <p>Polls the file's modification time and size (default every 2 seconds); {@link #reloadSoon()}
 * loads it at once on the reloader's thread (SIGHUP), {@link #checkNow()} on the caller's (tests, the
 * admin API).
 */
public final class ConfigReloader implements AutoCloseable {
  /** Default time between checks of the file. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(2);
  private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

  private final Path file;
  private final MeridianInstance instance;
  private final ScheduledExecutorService worker;
  /** The file's modification time and size when it was last loaded, or null to load at the next check. */
  private volatile Stamp loaded;

  /** A file's modification time and size: a change in either is a change of the file. */
  private record Stamp(FileTime modified, long size) {}

  /** Creates a reloader for the instance started from {@code file}. */
  public ConfigReloader(Path file, MeridianInstance instance) {
    this.file = file;
    this.instance = instance;
    // Checks, SIGHUP and the file watch run on this one thread, created here so that it has the
    // application's context class loader (a signal handler's thread has none, and the config library
    // needs one).
    this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "meridian-config-watch");
      t.setDaemon(true);
      return t;
    });
    this.loaded = stamp();
  }

  /** Starts polling the file. */
  public ConfigReloader start(Duration interval) {
    worker.scheduleWithFixedDelay(this::checkIfChanged, interval.toMillis(), interval.toMillis(),
        TimeUnit.MILLISECONDS);
    return this;
  }

  /**
   * Reloads on the reloader's own thread, not the caller's (SIGHUP: a signal handler must not block,
   * and its thread cannot load the file); the outcome is logged.
   */
  public void reloadSoon() {
    worker.execute(() -> {
      try {
        Outcome outcome = reload();
        if (outcome.applied()) {
          log.info("{}: reloaded (SIGHUP)", file);
        }
      } catch (RuntimeException e) {
        log.error("{}: reload failed; keeping the configuration in force", file, e);
      }
    });
  }

  private void checkIfChanged() {
    try {
      Stamp now = stamp();
      if (now == null) {
        log.warn("{}: cannot read the configuration file; keeping the configuration in force", file);
      } else if (!now.equals(loaded)) {
        checkNow();
      }
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

  /**
   * Loads the file and, when it is valid, puts it in force; says which, and why not. A file refused
   * for its problems, or because it could not be put in force (a new listener's address is taken),
   * is not loaded again until it changes; after any other failure (or when the file
   * changed while it was read) the next check loads it again.
   */
  public synchronized Outcome reload() {
    Stamp before = stamp();
    loaded = null; // until this load ends one way or the other: an error thrown leaves it to the next check
    MeridianSettings next;
    try {
      next = SettingsLoader.load(file);
    } catch (InvalidConfigException e) {
      for (var problem : e.problems()) {
        log.error("{}", problem);
      }
      log.error("{}: {} problem(s); the new configuration was refused and the one in force keeps serving",
          file, e.problems().size());
      loaded = settled(before);
      instance.proxy().metrics().configReloads().refused();
      return new Outcome(false, e.problems().stream().map(Object::toString).toList());
    }
    try {
      instance.proxy().reload(next);
    } catch (dev.meridian.proxy.server.ReloadRefusedException e) {
      // Valid, but it cannot be put in force (a new listener's port is taken): like a file with
      // problems, it is not tried again until it changes (SIGHUP and the admin API try at once).
      log.error("{}: {}; the new configuration was refused and the one in force keeps serving", file,
          e.getMessage());
      loaded = settled(before);
      instance.proxy().metrics().configReloads().refused();
      return new Outcome(false, java.util.List.of(file + ": " + e.getMessage()));
    }
    loaded = settled(before);
    instance.proxy().metrics().configReloads().applied(System.currentTimeMillis());
    return new Outcome(true, java.util.List.of());
  }

  /** The stamp to remember after loading: {@code before}, unless the file changed while it was read. */
  private Stamp settled(Stamp before) {
    return before != null && before.equals(stamp()) ? before : null;
  }

  private Stamp stamp() {
    try {
      return new Stamp(Files.getLastModifiedTime(file), Files.size(file));
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
