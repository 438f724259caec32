package dev.meridian.proxy.sticky;

import dev.meridian.balancer.StickyCookie;
import dev.meridian.proxy.config.InvalidConfigException;
import dev.meridian.proxy.config.StickyKeyFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sticky-session codec in force, kept in step with the keys file: {@link #check()} (called every
 * {@code meridian.sticky.reload-interval}) compares the file's contents (a small file: a CRC of its
 * bytes) with the last check's and, on a change, reads it again. A file that does not read is refused with one WARN line and
 * the keys in force stay; it is tried again when it changes again. Without a file the codec has one
 * random key for the life of the process.
 *
 * <p>Thread-safe: {@link #codec()} is a volatile read; checks are serialized.
 */
public final class StickyKeys {
  private static final Logger log = LoggerFactory.getLogger(StickyKeys.class);

  private final Optional<Path> file;
  private final AtomicLong reloads = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private volatile StickyCookie codec;
  private String stamp;

  private StickyKeys(Optional<Path> file, StickyCookie codec, String stamp) {
    this.file = file;
    this.codec = codec;
    this.stamp = stamp;
  }

  /**
   * Reads the keys file, or makes a random key when there is none.
   *
   * @throws InvalidConfigException when the file does not read (the configuration check reports it first)
   */
  public static StickyKeys load(Optional<Path> file) throws InvalidConfigException {
    if (file.isEmpty()) {
      return new StickyKeys(file, StickyCookie.withRandomKey(), null);
    }
    String stamp = stampOf(file.get());
    return new StickyKeys(file, new StickyCookie(StickyKeyFile.load(file.get())), stamp);
  }

  /** The codec for cookies now: its first key signs, all verify. */
  public StickyCookie codec() {
    return codec;
  }

  /** Whether the keys come from a file (and so are shared with other instances that read it). */
  public boolean isShared() {
    return file.isPresent();
  }

  /** How many times a changed file was put in force. */
  public long reloads() {
    return reloads.get();
  }

  /** How many times a changed file was refused. */
  public long refused() {
    return refused.get();
  }

  /** Reloads the file if it changed since the last check; returns whether new keys are in force. */
  public synchronized boolean check() {
    if (file.isEmpty()) {
      return false;
    }
    Path path = file.get();
    String now = stampOf(path);
    if (now == null || now.equals(stamp)) {
      if (now == null && stamp != null) {
        log.warn("sticky keys file {} is gone; the keys in force stay", path);
        stamp = null;
      }
      return false;
    }
    stamp = now;
    try {
      StickyCookie next = new StickyCookie(StickyKeyFile.load(path));
      codec = next;
      reloads.incrementAndGet();
      log.info("sticky keys reloaded from {}: {} key(s), signing with '{}'", path, next.keyIds().size(),
          next.keyIds().get(0));
      return true;
    } catch (InvalidConfigException e) {
      refused.incrementAndGet();
      // A line per problem (file: line: key: what), each whole for a log shipper that reads lines.
      e.problems().forEach(problem -> log.warn("{}", problem));
      log.warn("sticky keys file {} refused ({} problem(s)); the keys in force stay", path, e.problems().size());
      return false;
    }
  }

  /**
   * The file's size and a CRC of its bytes, or null when it cannot be read. Contents rather than the
   * modification time, whose granularity can hide two writes in one tick.
   */
  private static String stampOf(Path path) {
    try {
      byte[] bytes = Files.readAllBytes(path);
      CRC32C crc = new CRC32C();
      crc.update(bytes);
      return bytes.length + "/" + Long.toHexString(crc.getValue());
    } catch (IOException e) {
      return null;
    }
  }
}
