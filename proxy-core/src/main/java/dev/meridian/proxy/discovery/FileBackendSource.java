package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.BackendFile;
import dev.meridian.proxy.config.BackendSourceSettings;
import dev.meridian.proxy.config.InvalidConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Backends from a JSON or HOCON file ({@code backend-groups.NAME.backends-file}), read at start and
 * again whenever its bytes change (checked every {@code discovery.file.interval}). A file that cannot
 * be read or is broken is reported as a failure naming {@code file: line: key} of each problem; the
 * last good list stays, and the same broken bytes are not reported twice. What is reported is always
 * the bytes compared: a file caught half rewritten is refused, and its finished bytes are read at the
 * next check (were the file parsed again, a report could describe other bytes than those remembered,
 * and a finished file could go unread until its next change).
 */
final class FileBackendSource implements BackendSource {
  private final BackendSourceSettings.File entry;
  private final ScheduledExecutorService executor;
  private final Duration interval;
  private BackendSource.Listener listener;
  /** The bytes last read (good or broken), null before the first read or after a read error. */
  private byte[] lastSeen;
  private ScheduledFuture<?> task;

  FileBackendSource(BackendSourceSettings.File entry, ScheduledExecutorService executor, Duration interval) {
    this.entry = entry;
    this.executor = executor;
    this.interval = interval;
  }

  @Override
  public synchronized void start(BackendSource.Listener listener) {
    this.listener = listener;
    task = executor.scheduleWithFixedDelay(this::check, 0, interval.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Reads the file if its bytes changed and reports its backends or its problems. */
  synchronized void check() {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(entry.file());
    } catch (IOException | RuntimeException e) {
      lastSeen = null;
      listener.failed("cannot read " + entry.file() + ": " + e);
      return;
    }
    if (Arrays.equals(bytes, lastSeen)) {
      return;
    }
    lastSeen = bytes;
    try {
      listener.found(BackendFile.load(entry.file(), bytes, entry.defaultRegion()));
    } catch (InvalidConfigException e) {
      listener.failed("refused: " + e.getMessage().replace("\n", "; "));
    }
  }

  @Override
  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
    }
  }

  @Override
  public String describe() {
    return "file " + entry.file();
  }
}
