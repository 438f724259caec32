package dev.meridian.proxy.config;

/**
 * One thing wrong with a configuration file, printed as {@code file: line: key: message}.
 *
 * @param file    the file (or origin name) the problem is in
 * @param line    the line number, or 0 when unknown (for example a required key that is absent)
 * @param key     the full key path, e.g. {@code meridian.routes[1].path-prefix}; empty for syntax errors
 * @param message what is wrong, ending with {@code (expected: ...)}
 */
public record ConfigProblem(String file, int line, String key, String message) {

  /** Formats as {@code FILE: LINE: key: message}, leaving out the line when unknown and the key when empty. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(file).append(": ");
    if (line > 0) {
      sb.append(line).append(": ");
    }
    if (!key.isEmpty()) {
      sb.append(key).append(": ");
    }
    return sb.append(message).toString();
  }
}
