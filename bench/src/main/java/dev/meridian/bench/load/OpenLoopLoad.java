package dev.meridian.bench.load;

import dev.meridian.proxy.drill.LoadGenerator;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * S2 of the bench suite: a fixed request rate, whatever the target does, with every latency measured
 * from the request's intended send time (the drill's {@link LoadGenerator}), so a stall counts as the
 * queueing it causes. Prints one JSON object: the rate asked for and achieved, the latency percentiles
 * in milliseconds and the errors by kind.
 *
 * <p>usage: {@code OpenLoopLoad URL RATE CONNECTIONS WARMUP_SECONDS SECONDS [HGRM_FILE]}: the warm-up
 * runs at the same rate and is not recorded, and the schedule restarts after it (a backlog left from
 * the generator's own warm-up is dropped); the optional file gets HdrHistogram's percentile
 * distribution (in milliseconds) for plotting.
 */
public final class OpenLoopLoad {
  private static final double[] PERCENTILES = {50, 75, 90, 99, 99.9, 99.99, 100};

  private OpenLoopLoad() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      System.err.println("usage: OpenLoopLoad URL RATE CONNECTIONS WARMUP_SECONDS SECONDS [HGRM_FILE]");
      System.exit(2);
    }
    URI url = URI.create(args[0]);
    double rate = Double.parseDouble(args[1]);
    int connections = Integer.parseInt(args[2]);
    long warmupNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(args[3]));
    long measureNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(args[4]));

    Histogram measured;
    long completed;
    Map<String, Long> errors;
    try (LoadGenerator load = new LoadGenerator(url, rate, connections, Map.of(), Duration.ofSeconds(10), true)) {
      load.start();
      sleepNanos(warmupNanos);
      load.restartSchedule();
      load.interval();
      Map<String, Long> errorsBefore = load.errors();
      long completedBefore = load.completed();
      sleepNanos(measureNanos);
      measured = load.interval();
      completed = load.completed() - completedBefore;
      errors = minus(load.errors(), errorsBefore);
    }
    if (args.length > 5) {
      try (var out = new java.io.PrintStream(Files.newOutputStream(Path.of(args[5])), false, StandardCharsets.UTF_8)) {
        measured.outputPercentileDistribution(out, 1000.0);
      }
    }
    System.out.println(json(rate, completed / (measureNanos / 1e9), measured, errors));
  }

  private static Map<String, Long> minus(Map<String, Long> after, Map<String, Long> before) {
    Map<String, Long> out = new java.util.TreeMap<>();
    after.forEach((kind, n) -> {
      long d = n - before.getOrDefault(kind, 0L);
      if (d > 0) {
        out.put(kind, d);
      }
    });
    return out;
  }

  private static String json(double rate, double achieved, Histogram h, Map<String, Long> errors) {
    StringBuilder s = new StringBuilder();
    s.append(String.format("{\"rate\":%.1f,\"achieved\":%.1f,\"count\":%d,\"latency_ms\":{", rate, achieved, h.getTotalCount()));
    for (int i = 0; i < PERCENTILES.length; i++) {
      s.append(i > 0 ? "," : "").append('"').append(label(PERCENTILES[i])).append("\":")
          .append(String.format("%.3f", h.getValueAtPercentile(PERCENTILES[i]) / 1000.0));
    }
    s.append("},\"errors\":").append(errors.values().stream().mapToLong(Long::longValue).sum())
        .append(",\"errors_by_kind\":{");
    int i = 0;
    for (Map.Entry<String, Long> e : errors.entrySet()) {
      s.append(i++ > 0 ? "," : "").append('"').append(e.getKey()).append("\":").append(e.getValue());
    }
    return s.append("}}").toString();
  }

  private static String label(double percentile) {
    return percentile == Math.rint(percentile) ? String.valueOf((long) percentile) : String.valueOf(percentile);
  }

  private static void sleepNanos(long nanos) throws InterruptedException {
    long until = System.nanoTime() + nanos;
    for (long left = nanos; left > 0; left = until - System.nanoTime()) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }
}
