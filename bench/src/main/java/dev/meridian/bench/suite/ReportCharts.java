package dev.meridian.bench.suite;

import java.awt.Color;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * Draws the run's PNG charts (1000x500): {@code ratios.png}, each target's median relative to the best
 * peer per scenario (1.0 = parity with the better of nginx and HAProxy, higher is better; a
 * lower-is-better metric is plotted as best / target), without {@code direct} and without scenarios
 * that have no peer value; and per scenario with latency {@code latency-<scenario>.png}, each target's
 * latency by percentile (median over the repetitions) on the classic HdrHistogram axis, x =
 * log10(1 / (1 - p/100)), so that 90%, 99%, 99.9% and 99.99% are evenly spaced. The maximum ("100")
 * has no place on that axis and is left out.
 */
final class ReportCharts {
  static final String RATIOS_FILE = "ratios.png";
  static final int WIDTH = 1000;
  static final int HEIGHT = 500;
  /** A target keeps its colour in every chart; other targets take XChart's defaults. */
  private static final Map<String, Color> COLORS = Map.of("direct", Color.GRAY, "nginx", new Color(0x2e7d32),
      "haproxy", new Color(0x1565c0), "baseline", new Color(0xef6c00), "meridian", new Color(0x8e24aa),
      "meridian-matched", new Color(0xce93d8));

  private ReportCharts() {}

  /** Writes the charts that have data into {@code dir} and returns their file names. */
  static Set<String> write(List<ScenarioSummary> scenarios, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Set<String> written = new LinkedHashSet<>();
    CategoryChart ratios = ratioChart(scenarios);
    if (ratios != null) {
      save(ratios, dir, RATIOS_FILE, written);
    }
    for (ScenarioSummary s : scenarios) {
      XYChart latency = latencyChart(s);
      if (latency != null) {
        save(latency, dir, latencyFileName(s.scenario()), written);
      }
    }
    return written;
  }

  /** The latency chart's file name: "S2@50%" gives "latency-S2-50.png". */
  static String latencyFileName(String scenario) {
    String safe = scenario.replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^-+|-+$", "");
    return "latency-" + (safe.isEmpty() ? "scenario" : safe) + ".png";
  }

  private static CategoryChart ratioChart(List<ScenarioSummary> scenarios) {
    List<ScenarioSummary> compared = scenarios.stream().filter(s -> s.bestPeer() != null).toList();
    Set<String> targets = new LinkedHashSet<>(ScenarioSummary.DISPLAY_ORDER);
    compared.forEach(s -> targets.addAll(s.targets().keySet()));
    targets.remove("direct");
    CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
        .title("Median relative to the better of nginx and HAProxy (1.0 = parity, higher is better)")
        .xAxisTitle("scenario").yAxisTitle("x best peer (lower-is-better metrics: best / target)").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
    chart.getStyler().setYAxisMin(0.0).setYAxisDecimalPattern("0.00");
    List<String> categories = compared.stream().map(ScenarioSummary::scenario).toList();
    for (String target : targets) {
      List<Double> relative = compared.stream().map(s -> s.relativeToBestPeer(target)).toList();
      if (relative.stream().anyMatch(Objects::nonNull)) {
        CategorySeries series = chart.addSeries(target, categories, relative);
        if (COLORS.containsKey(target)) {
          series.setFillColor(COLORS.get(target));
        }
      }
    }
    if (chart.getSeriesMap().isEmpty()) {
      return null;
    }
    chart.addAnnotation(new AnnotationLine(1.0, false, false));
    return chart;
  }

  private static XYChart latencyChart(ScenarioSummary s) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
        .title(s.scenario() + (s.title() == null ? "" : ": " + s.title()) + ", latency by percentile (median of repetitions)")
        .xAxisTitle("percentile").yAxisTitle("ms").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setYAxisMin(0.0).setMarkerSize(6);
    double maxX = 0;
    for (TargetSummary t : s.targets().values()) {
      List<Double> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      for (Map.Entry<String, Double> point : t.latencyMs().entrySet()) {
        double percentile = Double.parseDouble(point.getKey());
        if (percentile >= 0 && percentile < 100) {
          x.add(Math.log10(1 / (1 - percentile / 100)));
          y.add(point.getValue());
        }
      }
      if (!x.isEmpty()) {
        XYSeries series = chart.addSeries(t.target(), x, y);
        if (COLORS.containsKey(t.target())) {
          series.setLineColor(COLORS.get(t.target()));
          series.setMarkerColor(COLORS.get(t.target()));
        }
        maxX = Math.max(maxX, x.get(x.size() - 1));
      }
    }
    if (chart.getSeriesMap().isEmpty()) {
      return null;
    }
    int decades = (int) Math.max(2, Math.ceil(maxX - 1e-9));
    // One tick per decade (90%, 99%, ...): the tick step follows from the spacing hint over the axis length.
    chart.getStyler().setXAxisMin(0.0).setXAxisMax((double) decades)
        .setXAxisTickMarkSpacingHint(WIDTH * 9 / 10 / decades)
        .setxAxisTickLabelsFormattingFunction(ReportCharts::percentileLabel);
    return chart;
  }

  /** The percentile at x = log10(1 / (1 - p/100)): 1 gives "90%", 3 gives "99.9%". */
  static String percentileLabel(double x) {
    double percentile = 100 * (1 - Math.pow(10, -x));
    int decimals = Math.max(0, (int) Math.ceil(x - 1e-9) - 2);
    return new BigDecimal(percentile).setScale(decimals, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString() + "%";
  }

  private static void save(Chart<?, ?> chart, Path dir, String name, Set<String> written) throws IOException {
    BitmapEncoder.saveBitmap(chart, dir.resolve(name).toString(), BitmapEncoder.BitmapFormat.PNG);
    written.add(name);
  }
}
