package dev.meridian.proxy.config;

import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names the line of a required include that was not found. Typesafe Config reports such an include
 * without an origin ("include was not found: 'routes.conf'"), so the file is searched for the include
 * statement that names it.
 */
final class MissingInclude {
  /** The two ways Typesafe Config says it, as the include was looked for in files only or on the class path too. */
  private static final Pattern NOT_FOUND =
      Pattern.compile("include was not found: '([^']+)'|resource not found on classpath: (\\S+)");

  private MissingInclude() {}

  /**
   * The problem at the line of {@code file} that includes what {@code e} says was not found, or null
   * when {@code e} is not about an include or no line of the file names it (a nested include).
   */
  static ConfigProblem locate(Path file, ConfigException.IO e) {
    Matcher matcher = NOT_FOUND.matcher(String.valueOf(e.getMessage()));
    if (!matcher.find()) {
      return null;
    }
    String name = matcher.group(1) != null ? matcher.group(1) : matcher.group(2);
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException unreadable) {
      return null;
    }
    Path directory = file.toAbsolutePath().getParent();
    Path resolved = directory == null ? Path.of(name) : directory.resolve(name);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (!line.startsWith("#") && !line.startsWith("//") && line.contains("include") && line.contains(name)) {
        return new ConfigProblem(file.toString(), i + 1, "include",
            "'" + name + "' was not found (looked for " + resolved + "; expected: a readable HOCON file, or"
                + " include without required(...) when the file may be absent)");
      }
    }
    return null;
  }
}
