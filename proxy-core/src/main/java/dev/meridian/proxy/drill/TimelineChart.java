package dev.meridian.proxy.drill;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws a drill's timeline as a PNG: each region's share of requests (percent, left axis) and the p99
 * latency (milliseconds, right axis) per interval, with vertical lines at the action and the restore.
 */
final class TimelineChart {
  private TimelineChart() {}

  static void write(DrillReport report, Path file) throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYChart chart = new XYChartBuilder().width(1200).height(600)
        .title("Drill: " + report.plan().action() + " on " + report.plan().region() + " (group "
            + report.plan().group() + ")")
        .xAxisTitle("seconds since the drill started").yAxisTitle("share of requests (%)").build();
    chart.setYAxisGroupTitle(1, "p99 latency (ms)");
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
    chart.getStyler().setYAxisMin(0, 0.0).setYAxisMax(0, 100.0).setYAxisMin(1, 0.0);
    chart.getStyler().setMarkerSize(3);
    chart.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
    List<DrillReport.Sample> samples = report.timeline();
    double[] x = samples.stream().mapToDouble(s -> s.tMillis() / 1000.0).toArray();
    if (x.length == 0) {
      x = new double[] {0};
    }
    for (String region : report.regions()) {
      double[] share = new double[x.length];
      for (int i = 0; i < samples.size(); i++) {
        long total = samples.get(i).regionPicks().values().stream().mapToLong(Long::longValue).sum();
        share[i] = total == 0 ? Double.NaN : 100.0 * samples.get(i).regionPicks().getOrDefault(region, 0L) / total;
      }
      XYSeries series = chart.addSeries("share " + region, x, fillGaps(share));
      series.setMarker(SeriesMarkers.NONE);
    }
    double[] p99 = samples.stream().mapToDouble(DrillReport.Sample::p99Millis).toArray();
    XYSeries latency = chart.addSeries("p99 ms", x, fillGaps(p99.length == 0 ? new double[] {0} : p99));
    latency.setYAxisGroup(1);
    latency.setMarker(SeriesMarkers.CIRCLE);
    chart.addAnnotation(new AnnotationLine(report.actionMillis() / 1000.0, true, false));
    chart.addAnnotation(new AnnotationLine(report.restoreMillis() / 1000.0, true, false));
    BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  /** An interval without requests has no share or latency: it repeats the previous value (0 first). */
  private static double[] fillGaps(double[] values) {
    List<Double> out = new ArrayList<>(values.length);
    double last = 0;
    for (double v : values) {
      last = Double.isNaN(v) ? last : v;
      out.add(last);
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
