package dev.meridian.proxy.config;

import dev.meridian.proxy.accesslog.AccessLogSettings;
import dev.meridian.proxy.config.MeridianSettings.TracingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads {@code meridian.access-log} and {@code meridian.tracing}. */
final class AccessLogReader {
  private AccessLogReader() {}

  /** {@code meridian.access-log}: on or off, where lines go, sampling, the queue and file rotation. */
  static AccessLogSettings accessLog(ObjectReader meridian) {
    ObjectReader a = meridian.section("access-log");
    boolean enabled = a.bool("enabled");
    String output = a.string("output", "stdout").trim();
    Optional<Path> file = Optional.empty();
    if (output.isEmpty()) {
      a.problem("output", "is empty (expected: stdout, or the path of a file)");
    } else if (!output.equals("stdout")) {
      file = a.optionalPath("output");
      file.ifPresent(path -> checkWritable(a, path, enabled));
    }
    double sample = a.decimal("sample", 1.0, 0.0, 1.0);
    int queueSize = a.integer("queue-size", 16384, 64);
    if (Integer.bitCount(queueSize) != 1) {
      a.problem("queue-size", queueSize + " is not a power of two (expected: such as 4096, 16384 or 65536)");
      queueSize = Integer.highestOneBit(queueSize);
    }
    return new AccessLogSettings(enabled, file, sample, a.bool("always-log-errors"), queueSize,
        a.largeBytes("max-file-size"), a.integer("max-files", 10, 1), a.bool("compress"), a.bool("decisions"),
        a.bool("query"));
  }

  /** A file output's directory must exist and the file be writable, when the log is on. */
  private static void checkWritable(ObjectReader a, Path path, boolean enabled) {
    if (!enabled) {
      return;
    }
    Path dir = path.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      a.problem("output", "directory " + dir + " does not exist (expected: a file in an existing directory)");
    } else if (Files.exists(path) ? !Files.isWritable(path) : !Files.isWritable(dir)) {
      a.problem("output", "cannot write " + path + " (expected: a file Meridian may write)");
    }
  }

  /** {@code meridian.tracing}: W3C trace context propagation. */
  static TracingSettings tracing(ObjectReader meridian) {
    ObjectReader t = meridian.section("tracing");
    return new TracingSettings(t.bool("enabled"), t.bool("sample-new"));
  }
}
