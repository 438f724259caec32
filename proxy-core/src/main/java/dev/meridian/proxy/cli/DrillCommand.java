package dev.meridian.proxy.cli;

import dev.meridian.proxy.admin.DurationParam;
import dev.meridian.proxy.drill.Drill;
import dev.meridian.proxy.drill.DrillAction;
import dev.meridian.proxy.drill.DrillPlan;
import dev.meridian.proxy.drill.DrillReport;
import dev.meridian.proxy.drill.SloSpec;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meridian drill}: rehearses a region failure against a running Meridian through its admin API
 * and reports what clients saw. Exit status 0 when every SLO holds, 1 when one is broken, 2 on bad use.
 */
@Command(name = "drill", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
    description = {"Rehearse a region failure against a running Meridian.",
        "It records a baseline, applies the action to the region, holds, restores, and watches traffic",
        "fail back. With --target the drill sends its own",
        "open-loop load; without it, it watches live traffic through the admin API's per-region counters.",
        "Exit status: 0 when every SLO holds, 1 when one is broken, 2 on bad use."})
final class DrillCommand implements Callable<Integer> {
  @Option(names = "--admin", required = true, paramLabel = "URL", description = "admin listener, e.g. http://127.0.0.1:9901")
  URI admin;

  @Option(names = "--group", required = true, paramLabel = "G", description = "backend group")
  String group;

  @Option(names = "--region", required = true, paramLabel = "R", description = "region to act on")
  String region;

  @Option(names = "--action", defaultValue = "dial=0", paramLabel = "A",
      description = "dial=0-100 | eject | delay=200ms | abort=503:10%% (default: ${DEFAULT-VALUE})")
  String action;

  @Option(names = "--hold", defaultValue = "30s", paramLabel = "D", description = "how long the action holds (default: ${DEFAULT-VALUE})")
  String hold;

  @Option(names = "--baseline", defaultValue = "5s", paramLabel = "D", description = "traffic watched before the action (default: ${DEFAULT-VALUE})")
  String baseline;

  @Option(names = "--recovery", defaultValue = "15s", paramLabel = "D",
      description = "longest time fail-back is watched after the restore (default: ${DEFAULT-VALUE})")
  String recovery;

  @Option(names = "--target", paramLabel = "URL", description = "send open-loop GETs here (a Meridian listener)")
  URI target;

  @Option(names = "--rate", defaultValue = "200", paramLabel = "N", description = "requests per second with --target (default: ${DEFAULT-VALUE})")
  double rate;

  @Option(names = "--connections", defaultValue = "16", paramLabel = "N", description = "keep-alive connections with --target (default: ${DEFAULT-VALUE})")
  int connections;

  @Option(names = "--header", paramLabel = "K:V", description = "request header with --target; repeatable")
  List<String> headers = List.of();

  @Option(names = "--timeout", defaultValue = "5s", paramLabel = "D",
      description = "a request unanswered this long after its intended send time is an error (default: ${DEFAULT-VALUE})")
  String timeout;

  @Option(names = "--insecure", description = "accept any certificate of an https target")
  boolean insecure;

  @Option(names = "--warm-up", defaultValue = "2s", paramLabel = "D",
      description = "with --target, load sent before the baseline and not measured (default: ${DEFAULT-VALUE})")
  String warmUp;

  @Option(names = "--slo", paramLabel = "LIST", description = "e.g. errors=0,shift=1s,p99=200ms (also failback=D, p50=D, p999=D, errors=N%%)")
  String slo;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "the admin token (the file admin.token-file names: its first line), for an admin API that needs one")
  Path tokenFile;

  @Option(names = "--out", paramLabel = "DIR", description = "write drill-report.json, drill-report.md and drill-timeline.png here")
  Path out;

  @Override
  public Integer call() {
    DrillPlan plan;
    try {
      plan = plan();
    } catch (IllegalArgumentException e) {
      System.err.println("meridian drill: " + e.getMessage());
      return 2;
    }
    DrillReport report;
    try {
      report = new Drill(plan, System.err).run();
    } catch (RuntimeException e) {
      // an unknown group or region, or an admin API that cannot be reached or refuses a call
      System.err.println("meridian drill: " + e.getMessage());
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 2;
    }
    System.out.print(report.table());
    if (out != null) {
      try {
        report.write(out);
        System.out.println("reports: " + out.resolve("drill-report.md") + ", " + out.resolve("drill-report.json")
            + ", " + out.resolve("drill-timeline.png"));
      } catch (IOException | RuntimeException e) {
        System.err.println("meridian drill: could not write the reports to " + out + ": " + e);
        return 2;
      }
    }
    return report.passed() ? 0 : 1;
  }

  private DrillPlan plan() {
    if (!"http".equalsIgnoreCase(admin.getScheme()) || admin.getHost() == null) {
      throw new IllegalArgumentException("admin: '" + admin + "' (expected: http://HOST:PORT)");
    }
    Optional<DrillPlan.Load> load = Optional.empty();
    if (target != null) {
      String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(java.util.Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https") || target.getHost() == null) {
        throw new IllegalArgumentException("target: '" + target + "' (expected: http:// or https:// URL)");
      }
      if (!(rate > 0 && rate <= 1_000_000)) {
        throw new IllegalArgumentException("rate: " + rate + " (expected: 1-1000000 requests per second)");
      }
      if (connections < 1 || connections > 10_000) {
        throw new IllegalArgumentException("connections: " + connections + " (expected: 1-10000)");
      }
      Map<String, String> extra = new LinkedHashMap<>();
      for (String h : headers) {
        int colon = h.indexOf(':');
        if (colon <= 0) {
          throw new IllegalArgumentException("header: '" + h + "' (expected: Name:value)");
        }
        extra.put(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
      }
      load = Optional.of(new DrillPlan.Load(target, rate, connections, extra, positive("timeout", timeout), insecure,
          DurationParam.parse("warm-up", warmUp)));
    } else if (!headers.isEmpty()) {
      throw new IllegalArgumentException("header: only with --target (the drill sends no requests without it)");
    }
    return new DrillPlan(admin, group, region, DrillAction.parse(action), DurationParam.parse("baseline", baseline),
        positive("hold", hold), DurationParam.parse("recovery", recovery), load, SloSpec.parse(slo), out,
        Duration.ofMillis(250), adminToken());
  }

  /** The first line of {@code --token-file}, if given. */
  private Optional<String> adminToken() {
    if (tokenFile == null) {
      return Optional.empty();
    }
    try (java.io.BufferedReader in = java.nio.file.Files.newBufferedReader(tokenFile)) {
      String line = in.readLine();
      if (line == null || line.isBlank()) {
        throw new IllegalArgumentException("token-file: " + tokenFile + " is empty (expected the token on its first line)");
      }
      return Optional.of(line.trim());
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("token-file: cannot read " + tokenFile + " (" + e.getMessage() + ")");
    }
  }

  private static Duration positive(String name, String text) {
    Duration d = DurationParam.parse(name, text);
    if (d.isZero()) {
      throw new IllegalArgumentException(name + ": '" + text + "' (expected: more than 0)");
    }
    return d;
  }
}
