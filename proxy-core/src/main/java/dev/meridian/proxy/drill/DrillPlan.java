package dev.meridian.proxy.drill;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a drill needs to run, as given on the command line.
 *
 * @param admin    the admin listener of the Meridian under test
 * @param group    the backend group
 * @param region   the region the action targets
 * @param action   what is done to the region
 * @param baseline how long traffic is watched before the action (default 5 s)
 * @param hold     how long the action holds (default 30 s)
 * @param recovery longest time fail-back is watched after the restore (default 15 s)
 * @param load     the drill's own load, or empty to watch live traffic
 * @param slo      what the drill is judged by
 * @param out      where the reports go, or null for the table only
 * @param interval the timeline's resolution (250 ms)
 */
public record DrillPlan(URI admin, String group, String region, DrillAction action, Duration baseline,
    Duration hold, Duration recovery, Optional<Load> load, SloSpec slo, Path out, Duration interval,
    Optional<String> adminToken) {

  /**
   * The drill's open-loop load.
   *
   * @param target      the URL every GET goes to
   * @param rate        requests per second
   * @param connections keep-alive connections
   * @param headers     extra request headers
   * @param timeout     a request unanswered this long after its intended send time is an error
   * @param insecure    accept any certificate for an https target
   * @param warmUp      how long the load runs, unmeasured, before the baseline (default 2 s)
   */
  public record Load(URI target, double rate, int connections, Map<String, String> headers, Duration timeout,
      boolean insecure, Duration warmUp) {}

  /** How long the injected change may outlive a drill that dies without restoring it. */
  Duration actionTimeLimit() {
    return hold.plus(recovery).plusSeconds(30);
  }
}
