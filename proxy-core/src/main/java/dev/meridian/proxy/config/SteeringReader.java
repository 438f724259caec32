package dev.meridian.proxy.config;

import dev.meridian.balancer.geo.ClientRegionResolver;
import dev.meridian.balancer.geo.GeoSettings;
import dev.meridian.proxy.config.MeridianSettings.HashSettings;
import dev.meridian.proxy.config.MeridianSettings.RegionSettings;
import dev.meridian.proxy.config.MeridianSettings.ResidencySettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the settings that steer requests between regions: a group's {@code regions} and {@code hash},
 * a route's {@code residency} and the process-wide {@code geo} section.
 */
final class SteeringReader {
  private static final Pattern HASH_KEY = Pattern.compile("(header|cookie):[!#$%&'*+.^_`|~0-9A-Za-z-]+|client-address");
  private static final Pattern CIDR = Pattern.compile("[0-9A-Fa-f:.]+(/[0-9]{1,3})?");

  private SteeringReader() {}

  /**
   * Reads {@code backend-groups.NAME.regions}; {@code regions} are those the group's backends may be
   * in, {@code namedRegions} those its written entries put backends in (backends, DNS and SRV
   * entries; not every zone a Kubernetes entry may map to, nor a backends file's, which changes at
   * run time).
   */
  static RegionSettings regions(ObjectReader group, Set<String> regions, Set<String> namedRegions) {
    if (!group.has("regions")) {
      return new RegionSettings(Map.of(), 1.4, Duration.ZERO, Optional.empty(), Duration.ZERO, 0.5);
    }
    Optional<ObjectReader> maybe = group.object("regions");
    if (maybe.isEmpty()) {
      return new RegionSettings(Map.of(), 1.4, Duration.ZERO, Optional.empty(), Duration.ZERO, 0.5);
    }
    ObjectReader r = maybe.get();
    Map<String, List<String>> failover = r.stringLists("failover");
    failover.forEach((client, order) -> {
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (String region : order) {
        if (!seen.add(region)) {
          r.problem("failover." + client, "region '" + region + "' is listed twice (expected: each region once)");
        }
        if (!regions.contains(region)) {
          r.problem("failover." + client, "region '" + region + "' has no backend in this group (expected: one of "
              + String.join(", ", regions) + ")");
        }
      }
    });
    Optional<String> writer = r.optionalString("writer");
    writer.filter(w -> !regions.contains(w)).ifPresent(w -> r.problem("writer",
        "region '" + w + "' has no backend in this group (expected: one of " + String.join(", ", regions) + ")"));
    checkEveryRegionIsReached(r, failover, namedRegions, writer);
    return new RegionSettings(failover, r.decimal("spill-over", 1.4, 1.0, 100.0),
        r.durationOrZero("latency-margin", Duration.ZERO), writer,
        r.durationOrZero("read-your-writes", Duration.ZERO), r.decimal("panic-threshold", 0.5, 0.0, 1.0));
  }

  /**
   * With a {@code default} order, a client's order comes from the table alone: a region of the group's
   * backends that no order lists would never get a request (a typo in a backend's region, most
   * often). Only the writer region may be left out, since writes reach it without an order.
   */
  private static void checkEveryRegionIsReached(ObjectReader r, Map<String, List<String>> failover,
      Set<String> regions, Optional<String> writer) {
    if (!failover.containsKey("default")) {
      return; // a client whose region has no order walks every region, by latency
    }
    Set<String> listed = new java.util.HashSet<>();
    failover.values().forEach(listed::addAll);
    for (String region : new java.util.TreeSet<>(regions)) {
      if (!listed.contains(region) && !writer.filter(region::equals).isPresent()) {
        r.problem("failover", "region '" + region + "' of this group's backends is in no order (the orders name "
            + String.join(", ", new java.util.TreeSet<>(listed)) + "), so its backends would never get a request"
            + " (expected: the region in an order, or the backends' region spelt as the orders spell it)");
      }
    }
  }

  /** Reads {@code backend-groups.NAME.hash}. */
  static HashSettings hash(ObjectReader group) {
    HashSettings none = new HashSettings("client-address", "maglev", 1.25);
    if (!group.has("hash")) {
      return none;
    }
    return group.object("hash").map(h -> {
      String key = h.string("key", "client-address");
      if (!HASH_KEY.matcher(key).matches()) {
        h.problem("key", "'" + key + "' (expected: header:NAME, cookie:NAME or client-address)");
      }
      String algorithm = h.string("algorithm", "maglev");
      if (!algorithm.equals("maglev") && !algorithm.equals("ring")) {
        h.problem("algorithm", "'" + algorithm + "' (expected: maglev or ring)");
      }
      return new HashSettings(key, algorithm, h.decimal("bounded-load", 1.25, 1.0, 100.0));
    }).orElse(none);
  }

  /** Reads {@code routes[].residency}, if present. */
  static Optional<ResidencySettings> residency(ObjectReader route) {
    if (!route.has("residency")) {
      return Optional.empty();
    }
    return route.object("residency").map(r -> {
      String header = r.string("header", "X-Data-Residency");
      Map<String, List<String>> classes = r.stringLists("regions");
      if (classes.isEmpty()) {
        r.problem("regions", "no residency classes (expected: e.g. regions { eu = [eu-west] })");
      }
      return new ResidencySettings(header, classes);
    });
  }

  /**
   * Reads {@code meridian.geo} and checks it the way the proxy will use it (tables naming unknown
   * regions, an unreadable database).
   */
  static GeoSettings geo(ObjectReader meridian, Set<String> knownRegions) {
    ObjectReader geo = meridian.section("geo");
    List<String> trusted = geo.strings("trusted-proxies", List.of());
    for (String cidr : trusted) {
      if (!CIDR.matcher(cidr).matches()) {
        geo.problem("trusted-proxies", "'" + cidr + "' (expected: an address/prefix like 10.0.0.0/8 or ::1/128)");
      }
    }
    List<GeoSettings.Network> networks = new java.util.ArrayList<>();
    for (ObjectReader n : geo.elements("networks", "{ cidr, region } objects")) {
      Optional<String> cidr = n.requiredString("cidr");
      Optional<String> region = n.requiredString("region");
      cidr.filter(c -> !CIDR.matcher(c).matches()).ifPresent(c ->
          n.problem("cidr", "'" + c + "' (expected: an address/prefix like 10.0.0.0/8 or 2001:db8::/32)"));
      if (cidr.isPresent() && region.isPresent()) {
        networks.add(new GeoSettings.Network(cidr.get(), region.get()));
      }
    }
    GeoSettings settings = new GeoSettings(geo.optionalString("client-region-header").orElse(null),
        geo.optionalString("country-header").orElse(null), trusted, geo.stringMap("countries"), networks,
        geo.optionalPath("database"), geo.integer("trusted-hops", 0, 0));
    try {
      ClientRegionResolver.create(settings, knownRegions).close();
    } catch (IllegalArgumentException e) {
      // The resolver lists one problem per indented line after a summary line: "key: message".
      String[] lines = e.getMessage().split("\n");
      for (int i = 1; i < lines.length; i++) {
        String problem = lines[i].trim();
        int colon = problem.indexOf(": ");
        geo.problem(colon > 0 ? problem.substring(0, colon) : "geo",
            colon > 0 ? problem.substring(colon + 2) : problem);
      }
    }
    return settings;
  }
}
