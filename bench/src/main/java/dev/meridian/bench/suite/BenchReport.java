package dev.meridian.bench.suite;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a {@code bench/suite.sh} run directory ({@code run.json}, {@code results.jsonl}) into
 * {@code report.md}, {@code report.json}, {@code ratios.png} and {@code latency-<scenario>.png}, written
 * next to them. Partial data (a failed target, one repetition, no latency) gives "n/a" cells, never an
 * error; only a missing or unreadable run directory, run.json or results.jsonl does.
 *
 * <p>Run: {@code java -cp bench/target/benchmarks.jar dev.meridian.bench.suite.BenchReport <run-dir>};
 * exit status 0 when the reports were written, 1 when the run directory could not be read, 2 on usage.
 */
public final class BenchReport {
  private static final Logger log = LoggerFactory.getLogger(BenchReport.class);

  private BenchReport() {}

  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: BenchReport <run-dir>  (the directory bench/suite.sh wrote run.json and results.jsonl to)");
      System.exit(2);
    }
    try {
      for (Path file : write(Path.of(args[0]))) {
        System.out.println("wrote " + file);
      }
    } catch (IOException e) {
      System.err.println("bench report: " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * Writes the reports into {@code runDir} and returns the files written; unreadable lines of
   * results.jsonl are reported on stderr and in the reports, and skipped.
   *
   * @throws IOException when the run directory, run.json or results.jsonl is missing or unreadable, or
   *     a report cannot be written
   */
  public static List<Path> write(Path runDir) throws IOException {
    RunResults results = RunResults.read(runDir);
    results.skipped().forEach(problem -> log.warn("skipped: {}", problem));
    List<ScenarioSummary> scenarios = ScenarioSummary.summarize(results.measurements());
    Set<String> charts = ReportCharts.write(scenarios, runDir);
    MarkdownReport.write(results, scenarios, charts, runDir.resolve(MarkdownReport.FILE));
    JsonReport.write(results, scenarios, runDir.resolve(JsonReport.FILE));
    List<Path> written = new ArrayList<>(List.of(runDir.resolve(MarkdownReport.FILE), runDir.resolve(JsonReport.FILE)));
    charts.forEach(chart -> written.add(runDir.resolve(chart)));
    return written;
  }
}
