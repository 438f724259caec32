package dev.meridian.proxy.config;

import java.util.List;
import java.util.stream.Collectors;

/** Thrown when a configuration has problems; carries every problem found, not just the first. */
public final class InvalidConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  private final List<ConfigProblem> problems;

  /** Creates the exception for a non-empty list of problems. */
  public InvalidConfigException(List<ConfigProblem> problems) {
    super();
    this.problems = List.copyOf(problems);
  }

  /** The problems, in the order they were found. */
  public List<ConfigProblem> problems() {
    return problems;
  }

  /** All problems, one per line, each as {@code file: line: key: message}. */
  @Override
  public String getMessage() {
    return problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n"));
  }
}
