/**
 * The report of a peer comparison run: {@code bench/suite.sh} leaves {@code run.json} (the machine and
 * the settings) and {@code results.jsonl} (one measurement per scenario, target and repetition) in a
 * run directory, and {@link dev.meridian.bench.suite.BenchReport} turns them into {@code report.md},
 * {@code report.json}, {@code ratios.png} and one {@code latency-<scenario>.png} per scenario with
 * latency. {@link dev.meridian.bench.suite.RunResults} reads the files,
 * {@link dev.meridian.bench.suite.ScenarioSummary} computes medians and Meridian's ratios to the peers,
 * {@link dev.meridian.bench.suite.MarkdownReport}, {@link dev.meridian.bench.suite.JsonReport} and
 * {@link dev.meridian.bench.suite.ReportCharts} write them.
 */
package dev.meridian.bench.suite;
