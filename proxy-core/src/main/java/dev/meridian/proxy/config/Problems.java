package dev.meridian.proxy.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects the problems of one configuration file, turning Typesafe Config origins into
 * {@code file: line} for the user's file.
 *
 * <p>Values that come from {@code reference.conf} (a key the user did not write) are reported
 * against the user's file without a line.
 */
final class Problems {
  private final String file;
  private final Path baseDirectory;
  private final List<ConfigProblem> list = new ArrayList<>();

  /** Creates an empty collection for the file or origin name shown in messages; paths resolve against the working directory. */
  Problems(String file) {
    this(file, Path.of(""));
  }

  /** Creates an empty collection for a file whose relative paths resolve against {@code baseDirectory}. */
  Problems(String file, Path baseDirectory) {
    this.file = file;
    this.baseDirectory = baseDirectory;
  }

  /** A path as the configuration wrote it, resolved against the configuration file's directory. */
  Path resolve(String path) {
    return baseDirectory.resolve(path);
  }

  /** Records a problem at a value's origin; {@code origin} may be null when there is none. */
  void add(ConfigOrigin origin, String key, String message) {
    list.add(new ConfigProblem(fileOf(origin), lineOf(origin), key, message));
  }

  /** Records a problem found in another file (one this configuration names). */
  void add(ConfigProblem problem) {
    list.add(problem);
  }

  /** Records a problem Typesafe Config raised while parsing or resolving. */
  void add(ConfigException e, String what, String expected) {
    ConfigOrigin origin = e.origin();
    String message = e.getMessage();
    if (origin != null && message.startsWith(origin.description() + ": ")) {
      message = message.substring(origin.description().length() + 2);
    }
    add(origin, "", what + ": " + message + " (expected: " + expected + ")");
  }

  /** The exception carrying every problem recorded so far. */
  InvalidConfigException toException() {
    return new InvalidConfigException(list);
  }

  /** Throws an {@link InvalidConfigException} carrying every problem, if there is any. */
  void throwIfAny() throws InvalidConfigException {
    if (!list.isEmpty()) {
      throw new InvalidConfigException(list);
    }
  }

  private String fileOf(ConfigOrigin origin) {
    // A default from reference.conf is a classpath resource, which has a file name too when the
    // classes are a directory rather than a jar: the problem is still the user's file's.
    return origin != null && origin.resource() == null && origin.filename() != null ? origin.filename() : file;
  }

  private static int lineOf(ConfigOrigin origin) {
    if (origin == null || origin.resource() != null || origin.lineNumber() <= 0) {
      return 0;
    }
    // A merged origin spans several places and has no single line worth showing.
    return origin.description().startsWith("merge of") ? 0 : origin.lineNumber();
  }
}
