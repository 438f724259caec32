package dev.meridian.proxy.config;

import dev.meridian.proxy.accesslog.AccessLogSettings;
import dev.meridian.proxy.config.MeridianSettings.TracingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

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
    String formatName = a.string("format", "json").trim().toLowerCase(Locale.ROOT);
    AccessLogSettings.Format format = switch (formatName) {
      case "json" -> AccessLogSettings.Format.JSON;
      case "combined" -> AccessLogSettings.Format.COMBINED;
      default -> {
        a.problem("format", "'" + formatName + "' is not a format (expected: json or combined)");
        yield AccessLogSettings.Format.JSON;
      }
    };
    return new AccessLogSettings(enabled, file, sample, a.bool("always-log-errors"), queueSize,
        a.largeBytes("max-file-size"), a.integer("max-files", 10, 1), a.bool("compress"), a.bool("decisions"),
        a.bool("query"), format, recordedHeaders(a, "request-headers", "X-Api-Client"),
        recordedHeaders(a, "response-headers", "Content-Type"));
  }

  /** Header names to record: tokens, each once, at most {@link AccessLogSettings#MAX_HEADERS}. */
  private static List<String> recordedHeaders(ObjectReader a, String key, String example) {
    List<String> names = a.headerNames(key, example);
    if (names.size() > AccessLogSettings.MAX_HEADERS) {
      a.problem(key, names.size() + " names are too many (expected: at most " + AccessLogSettings.MAX_HEADERS + ")");
    }
    Set<String> seen = new HashSet<>();
    for (String name : names) {
      if (!seen.add(name)) {
        a.problem(key, "'" + name + "' is named twice (expected: each name once)");
      }
    }
    return names;
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
