package dev.meridian.proxy.config;

import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a backend group's backend entries: written ones ({@code address}), DNS names ({@code dns}),
 * SRV names ({@code srv}), Kubernetes Services ({@code kubernetes}), and the group's
 * {@code backends-file}. The same entry syntax is read from
 * the configuration and from a backends file.
 *
 * @param backends the written backends, with distinct ids
 * @param sources  where more backends are discovered, in configuration order
 * @param regions  every region the entries name (those of a backends file included)
 */
record BackendEntries(List<BackendSettings> backends, List<BackendSourceSettings> sources, Set<String> regions,
    Set<String> namedRegions) {
  private static final List<String> KINDS = List.of("address", "dns", "srv", "kubernetes");

  /**
   * Reads {@code backends} and {@code backends-file} of the group object {@code g}; {@code zones}
   * ({@code discovery.kubernetes.zones}) maps Kubernetes zones to regions.
   */
  static BackendEntries read(ObjectReader g, String defaultRegion, Map<String, String> zones) {
    List<ObjectReader> elements = g.elements("backends", "{ address | dns | srv | kubernetes, ... } objects");
    Optional<java.nio.file.Path> file = g.optionalPath("backends-file");
    if (elements.isEmpty() && file.isEmpty() && g.isListOrAbsent("backends")) {
      g.problem("backends", "no backends (expected: at least one, e.g. backends = [ { address = \"10.0.0.1:8080\" } ],"
          + " [ { dns = \"app.internal:8080\" } ], or backends-file = \"backends.json\")");
    }
    List<BackendSettings> backends = new ArrayList<>();
    List<BackendSourceSettings> sources = new ArrayList<>();
    Set<String> regions = new LinkedHashSet<>();
    // The regions written entries put backends in (not every zone a Kubernetes entry might map to,
    // nor what a backends file holds now).
    Set<String> namedRegions = new LinkedHashSet<>();
    Map<String, String> ids = new HashMap<>();
    for (ObjectReader b : elements) {
      List<String> kinds = KINDS.stream().filter(b::has).toList();
      if (kinds.size() != 1) {
        b.problem(kinds.isEmpty() ? "address" : kinds.get(1), (kinds.isEmpty() ? "missing" : "both "
            + String.join(" and ", kinds) + " given") + " (expected: exactly one of address = \"HOST:PORT\","
            + " dns = \"NAME:PORT\", srv = \"_SERVICE._PROTO.NAME\" or kubernetes { service, port })");
        continue;
      }
      String region = b.string("region", defaultRegion);
      regions.add(region);
      if (!kinds.get(0).equals("kubernetes")) {
        namedRegions.add(region);
      }
      switch (kinds.get(0)) {
        case "dns" -> sources.add(dns(b, region));
        case "srv" -> sources.add(srv(b, region));
        case "kubernetes" -> {
          regions.addAll(zones.values());
          sources.add(KubernetesEntry.read(b, defaultRegion, zones));
        }
        default -> backends.add(written(b, defaultRegion, ids));
      }
    }
    file.ifPresent(path -> {
      regions.add(defaultRegion);
      if (!java.nio.file.Files.isRegularFile(path) || !java.nio.file.Files.isReadable(path)) {
        // Named where the configuration names it: the file's own name says nothing of which group.
        g.problem("backends-file", "cannot read " + path + " (expected: a readable JSON or HOCON file of backends)");
      } else {
        try {
          // Not among the named regions: the file changes at run time, and a reload must not be
          // refused for what it holds then.
          BackendFile.load(path, defaultRegion).forEach(b -> regions.add(b.region()));
        } catch (InvalidConfigException e) {
          e.problems().forEach(g.problems()::add);
        }
      }
      sources.add(new BackendSourceSettings.File(g.pathOf("backends-file"), path, defaultRegion));
    });
    return new BackendEntries(backends, sources, regions, namedRegions);
  }

  /**
   * Reads one written backend {@code { address, id, region, zone, weight }}; its id (the address
   * unless given) must not be in {@code ids} (id to where it was used), which it is added to.
   */
  static BackendSettings written(ObjectReader b, String defaultRegion, Map<String, String> ids) {
    HostPort address = TopologyReader.address(b, "address", 1);
    String id = b.string("id", address.toString());
    String clash = ids.putIfAbsent(id, b.pathOf("id"));
    if (clash != null) {
      b.problem(b.has("id") ? "id" : "address", "backend id '" + id + "' is also used by " + clash
          + " (expected: unique ids in a group; the id defaults to the address)");
    }
    return new BackendSettings(id, address, b.string("region", defaultRegion), b.string("zone", ""),
        b.integer("weight", 1, 1));
  }

  private static BackendSourceSettings dns(ObjectReader b, String region) {
    noId(b, "dns");
    HostPort target = TopologyReader.address(b, "dns", 1);
    if (target.port() > 0 && isAddressLiteral(target.host())) {
      b.problem("dns", "'" + target + "' is an address, not a name (expected: address = \"" + target
          + "\" for a fixed backend, or a DNS name such as \"app.internal:8080\")");
    }
    return new BackendSourceSettings.Dns(b.pathOf("dns"), target.host(), Math.max(1, target.port()), region,
        b.string("zone", ""), b.integer("weight", 1, 1));
  }

  private static BackendSourceSettings srv(ObjectReader b, String region) {
    noId(b, "srv");
    String name = b.requiredString("srv").orElse("");
    if (!name.startsWith("_") || !name.contains("._") || name.contains(":")) {
      b.problem("srv", "'" + name + "' is not an SRV name (expected: \"_SERVICE._PROTO.NAME\" such as"
          + " \"_http._tcp.app.internal\", without a port: the records give it)");
    }
    if (b.has("weight")) {
      b.problem("weight", "an srv entry's weights come from its SRV records (expected: no weight here)");
    }
    return new BackendSourceSettings.Srv(b.pathOf("srv"), name, region, b.string("zone", ""));
  }

  /** Refuses an {@code id} on a discovered entry: each backend it yields is named by its address. */
  static void noId(ObjectReader b, String kind) {
    if (b.has("id")) {
      b.problem("id", "a " + kind + " entry yields one backend per address, each named by its address"
          + " (expected: no id here)");
    }
  }

  private static boolean isAddressLiteral(String host) {
    return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
  }
}
