package dev.meridian.proxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Reads typed values from one configuration object, recording a {@link ConfigProblem} for each
 * missing or malformed value instead of throwing, so that every problem of a file is found in one
 * pass. A read that fails returns a placeholder; the caller throws once all reads are done.
 */
final class ObjectReader {
  private static final java.util.regex.Pattern HEADER_NAME = java.util.regex.Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  private final ConfigObject object;
  private final String path;
  private final Problems problems;
  private final Config reference;

  /**
   * Creates a reader over {@code object}, found at {@code path}; {@code reference} supplies a
   * section's defaults when the user replaced the section by something that is not an object.
   */
  ObjectReader(ConfigObject object, String path, Problems problems, Config reference) {
    this.object = object;
    this.path = path;
    this.problems = problems;
    this.reference = reference;
  }

  /** The full path of a key of this object, e.g. {@code meridian.routes[0].host}. */
  String pathOf(String key) {
    return path + "." + key;
  }

  /** The keys of this object in file order (by line, then by name). */
  List<String> keysInFileOrder() {
    List<String> keys = new ArrayList<>(object.keySet());
    keys.sort(Comparator.comparingInt((String k) -> object.get(k).origin().lineNumber())
        .thenComparing(Comparator.naturalOrder()));
    return keys;
  }

  /** Whether the key is present and not {@code null}. */
  boolean has(String key) {
    ConfigValue v = object.get(key);
    return v != null && v.valueType() != ConfigValueType.NULL;
  }

  /** Whether the key is absent, null or a list: a list read that can be empty without a type problem. */
  boolean isListOrAbsent(String key) {
    return !has(key) || object.get(key) instanceof ConfigList;
  }

  /**
   * Records a problem at the key's value, or at this object when the key is absent. A value the file
   * does not set (a default from {@code reference.conf}) has no line of its own: the problem says
   * it is the default and names the first line of this object that the file wrote, where the key
   * would go.
   */
  void problem(String key, String message) {
    ConfigValue v = object.get(key);
    if (v != null && v.origin().resource() != null) {
      problems.add(firstWrittenOrigin(), pathOf(key), "the default " + message);
      return;
    }
    problems.add(v != null ? v.origin() : object.origin(), pathOf(key), message);
  }

  /** The origin of this object's first value that the file wrote, or the object's own when none. */
  private ConfigOrigin firstWrittenOrigin() {
    ConfigOrigin first = null;
    for (ConfigValue value : object.values()) {
      ConfigOrigin origin = value.origin();
      // A merged origin (the file's value over a default) names no single line worth showing.
      boolean written = origin.resource() == null && origin.lineNumber() > 0
          && !origin.description().startsWith("merge of");
      if (written && (first == null || origin.lineNumber() < first.lineNumber())) {
        first = origin;
      }
    }
    return first != null ? first : object.origin();
  }

  /** A required string; empty (with a problem recorded) when absent or not a string. */
  Optional<String> requiredString(String key) {
    return Optional.ofNullable(get(key, "a string", "a string", null, null, c -> c.getString(quoted(key))));
  }

  /** A string, or {@code dflt} when absent. */
  String string(String key, String dflt) {
    return get(key, "a string", "a string", dflt, dflt, c -> c.getString(quoted(key)));
  }

  /** Where this reader records problems (also those of a file the configuration names). */
  Problems problems() {
    return problems;
  }

  /** A file path, if given, resolved against the configuration file's directory. */
  Optional<java.nio.file.Path> optionalPath(String key) {
    return optionalString(key).map(problems::resolve);
  }

  /** A required file path, resolved against the configuration file's directory; empty when missing. */
  Optional<java.nio.file.Path> requiredPath(String key) {
    return requiredString(key).map(problems::resolve);
  }

  /** A string, or empty when absent or {@code null}. */
  Optional<String> optionalString(String key) {
    return has(key) ? requiredString(key) : Optional.empty();
  }

  /** A required boolean. */
  boolean bool(String key) {
    return get(key, "true or false", "true or false", null, false, c -> c.getBoolean(quoted(key)));
  }

  /** A boolean, or {@code dflt} when absent. */
  boolean bool(String key, boolean dflt) {
    return get(key, "true or false", "true or false", dflt, dflt, c -> c.getBoolean(quoted(key)));
  }

  /** A list of strings, or {@code dflt} when absent. */
  List<String> strings(String key, List<String> dflt) {
    return get(key, "a list of strings", "a list of strings such as [a, b]", dflt, dflt,
        c -> c.getStringList(quoted(key)));
  }

  /**
   * A list of header field names, lower-cased, or an empty list when absent; a name that is no token
   * (RFC 9110 section 5.1) is a problem, named with {@code example}.
   */
  List<String> headerNames(String key, String example) {
    List<String> names = new java.util.ArrayList<>();
    for (String name : strings(key, List.of())) {
      if (!HEADER_NAME.matcher(name).matches()) {
        problem(key, "'" + name + "' is not a header name (expected: names such as " + example + ")");
      }
      names.add(name.toLowerCase(java.util.Locale.ROOT));
    }
    return names;
  }

  /** A required whole number of at least {@code min}. */
  int integer(String key, int min) {
    return integer(key, null, min);
  }

  /** A whole number of at least {@code min}, or {@code dflt} when absent. */
  int integer(String key, Integer dflt, int min) {
    String expected = "a whole number >= " + min;
    int n = get(key, "a whole number", expected, dflt, min, c -> c.getInt(quoted(key)));
    if (n < min) {
      problem(key, n + " is too small (expected: " + expected + ")");
      return min;
    }
    return n;
  }

  /** A number within [min, max], or {@code dflt} when absent. */
  double decimal(String key, double dflt, double min, double max) {
    String expected = "a number from " + min + " to " + max;
    double d = get(key, "a number", expected, dflt, dflt, c -> c.getDouble(quoted(key)));
    if (d < min || d > max) {
      problem(key, d + " is out of range (expected: " + expected + ")");
      return dflt;
    }
    return d;
  }

  /** A duration that may be zero (meaning off), or {@code dflt} when absent. */
  Duration durationOrZero(String key, Duration dflt) {
    String expected = "a duration such as 5s or 50ms, or 0 for off";
    Duration d = get(key, "a duration", expected, dflt, dflt, c -> c.getDuration(quoted(key)));
    if (d.isNegative()) {
      problem(key, render(object.get(key)) + " is negative (expected: " + expected + ")");
      return dflt;
    }
    return d;
  }

  /** An object whose keys the user names and whose values are lists of strings; empty when absent. */
  Map<String, List<String>> stringLists(String key) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (!has(key)) {
      return out;
    }
    object(key).ifPresent(o -> {
      for (String k : o.keysInFileOrder()) {
        List<String> value = o.strings(k, null);
        if (value != null) { // else not a list of strings: the problem is recorded, the entry left out
          out.put(k, value);
        }
      }
    });
    return out;
  }

  /** An object whose keys the user names and whose values are strings; empty when absent. */
  Map<String, String> stringMap(String key) {
    Map<String, String> out = new LinkedHashMap<>();
    if (!has(key)) {
      return out;
    }
    object(key).ifPresent(o -> {
      for (String k : o.keysInFileOrder()) {
        o.requiredString(k).ifPresent(v -> out.put(k, v));
      }
    });
    return out;
  }

  /** A required positive duration such as {@code 2s} or {@code 500ms}. */
  Duration duration(String key) {
    String expected = "a positive duration such as 2s or 500ms";
    Duration one = Duration.ofSeconds(1);
    Duration d = get(key, "a duration", expected, null, one, c -> c.getDuration(quoted(key)));
    if (d.isNegative() || d.isZero()) {
      problem(key, render(object.get(key)) + " is not positive (expected: " + expected + ")");
      return one;
    }
    return d;
  }

  /** A required positive size in bytes such as {@code 32KiB}, below 2 GiB. */
  int bytes(String key) {
    return bytes(key, 1, "a positive size such as 8KiB or 1MiB, below 2GiB");
  }

  /** A required size in bytes of 0 or more (0 meaning none, as the key's documentation says), below 2 GiB. */
  int bytesOrZero(String key) {
    return bytes(key, 0, "a size such as 8KiB or 1MiB (0: none), below 2GiB");
  }

  private int bytes(String key, int min, String expected) {
    long n = get(key, "a size", expected, null, (long) min, c -> c.getBytes(quoted(key)));
    if (n < min || n > Integer.MAX_VALUE) {
      problem(key, render(object.get(key)) + " is out of range (expected: " + expected + ")");
      return min;
    }
    return (int) n;
  }

  /** A required positive size in bytes such as {@code 256MiB} or {@code 4GiB}, without the 2 GiB cap of {@link #bytes}. */
  long largeBytes(String key) {
    String expected = "a positive size such as 256MiB or 4GiB";
    long n = get(key, "a size", expected, null, 1L, c -> c.getBytes(quoted(key)));
    if (n <= 0) {
      problem(key, render(object.get(key)) + " is out of range (expected: " + expected + ")");
      return 1;
    }
    return n;
  }

  /** A required size in bytes of 0 or more (0 meaning none), without the 2 GiB cap of {@link #bytes}. */
  long largeBytesOrZero(String key) {
    String expected = "a size such as 10MiB or 4GiB (0: none)";
    long n = get(key, "a size", expected, null, 0L, c -> c.getBytes(quoted(key)));
    if (n < 0) {
      problem(key, render(object.get(key)) + " is out of range (expected: " + expected + ")");
      return 0;
    }
    return n;
  }

  /** A nested object that exists in {@code reference.conf}; its defaults are used if it is malformed. */
  ObjectReader section(String key) {
    return object(key).orElseGet(() -> new ObjectReader(
        reference.getObject(pathOf(key)), pathOf(key), new Problems(""), reference));
  }

  /** A nested object, or empty (with a problem recorded) when the value is not an object. */
  Optional<ObjectReader> object(String key) {
    ConfigValue v = object.get(key);
    if (v instanceof ConfigObject o) {
      return Optional.of(new ObjectReader(o, pathOf(key), problems, reference));
    }
    problem(key, typeOf(v) + " (expected: an object { ... })");
    return Optional.empty();
  }

  /**
   * The objects of a list, each read on its own; absent or null means empty. Elements that are not
   * objects are reported and left out.
   */
  List<ObjectReader> elements(String key, String expected) {
    List<ObjectReader> out = new ArrayList<>();
    if (!has(key)) {
      return out;
    }
    ConfigValue v = object.get(key);
    if (!(v instanceof ConfigList list)) {
      problem(key, typeOf(v) + " (expected: a list [ ... ] of " + expected + ")");
      return out;
    }
    for (int i = 0; i < list.size(); i++) {
      String elementPath = pathOf(key) + "[" + i + "]";
      if (list.get(i) instanceof ConfigObject o) {
        out.add(new ObjectReader(o, elementPath, problems, reference));
      } else {
        problems.add(list.get(i).origin(), elementPath, typeOf(list.get(i)) + " (expected: " + expected + ")");
      }
    }
    return out;
  }

  /**
   * Reads a value: {@code dflt} when absent (a problem when {@code dflt} is null), {@code fallback}
   * (which may be null) when it cannot be converted.
   */
  private <T> T get(
      String key, String noun, String expected, T dflt, T fallback, Function<Config, T> getter) {
    if (!has(key)) {
      if (dflt == null) {
        problem(key, "missing (expected: " + expected + ")");
      }
      return dflt != null ? dflt : fallback;
    }
    try {
      return getter.apply(object.toConfig());
    } catch (ConfigException e) {
      problem(key, render(object.get(key)) + " is not " + noun + " (expected: " + expected + ")");
      return fallback;
    }
  }

  private static String quoted(String key) {
    return ConfigUtil.joinPath(key);
  }

  private static String typeOf(ConfigValue v) {
    if (v == null) {
      return "missing";
    }
    String type = switch (v.valueType()) {
      case OBJECT -> "an object";
      case LIST -> "a list";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      case STRING -> "a string";
    };
    return render(v) + " is " + type;
  }

  private static String render(ConfigValue v) {
    String s = v.render(ConfigRenderOptions.concise());
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }
}
