package dev.meridian.proxy.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Thrown when a configuration has problems; carries every problem found, not just the first. */
public final class InvalidConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  private final List<ConfigProblem> problems;

  /** Creates the exception for a non-empty list of problems (kept in line order, see {@link #problems()}). */
  public InvalidConfigException(List<ConfigProblem> problems) {
    super();
    this.problems = inLineOrder(problems);
  }

  /**
   * The problems as an operator reads the file: each file's problems (files in the order their first
   * problem was found) by line, those without a line (a key left out, a value from the defaults)
   * after them in the order found.
   */
  public List<ConfigProblem> problems() {
    return problems;
  }

  private static List<ConfigProblem> inLineOrder(List<ConfigProblem> found) {
    Map<String, Integer> fileOrder = new LinkedHashMap<>();
    found.forEach(problem -> fileOrder.putIfAbsent(problem.file(), fileOrder.size()));
    List<ConfigProblem> sorted = new ArrayList<>(found);
    sorted.sort(Comparator.<ConfigProblem>comparingInt(problem -> fileOrder.get(problem.file()))
        .thenComparingInt(problem -> problem.line() > 0 ? problem.line() : Integer.MAX_VALUE));
    return List.copyOf(sorted);
  }

  /** All problems, one per line, each as {@code file: line: key: message}. */
  @Override
  public String getMessage() {
    return problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n"));
  }
}
