package dev.meridian.proxy.config;

import dev.meridian.balancer.Strategies;
import dev.meridian.proxy.config.MeridianSettings.AdminSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendGroupSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendLimitSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import dev.meridian.proxy.config.MeridianSettings.ListenerSettings;
import dev.meridian.proxy.upstream.UpstreamProtocol;
import dev.meridian.proxy.upstream.UpstreamProxyProtocol;
import dev.meridian.tls.UpstreamTlsSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Reads where Meridian listens and what it forwards to: {@code listeners}, {@code admin} and
 * {@code backend-groups}, checking addresses, names and ids for duplicates.
 */
final class TopologyReader {
  private static final HostPort INVALID = new HostPort("invalid", 0);

  private final ObjectReader meridian;

  /** Creates a reader over the {@code meridian} object. */
  TopologyReader(ObjectReader meridian) {
    this.meridian = meridian;
  }

  /** Reads {@code listeners}: at least one, distinct names and distinct addresses (port 0 aside). */
  List<ListenerSettings> listeners() {
    List<ObjectReader> elements = meridian.elements("listeners", "{ name, address } objects");
    if (elements.isEmpty() && meridian.isListOrAbsent("listeners")) {
      meridian.problem("listeners", "no listeners (expected: at least one, "
          + "e.g. listeners = [ { name = \"web\", address = \"0.0.0.0:8080\" } ])");
    }
    List<ListenerSettings> out = new ArrayList<>();
    Map<String, String> names = new HashMap<>();
    Map<HostPort, String> addresses = new HashMap<>();
    for (int i = 0; i < elements.size(); i++) {
      ObjectReader e = elements.get(i);
      String name = e.string("name", "listener-" + i);
      HostPort address = address(e, "address", 0);
      String clash = names.putIfAbsent(name, e.pathOf("name"));
      if (clash != null) {
        e.problem("name", "'" + name + "' is also the name of " + clash + " (expected: unique listener names)");
      }
      if (address.port() != 0) {
        clash = addresses.putIfAbsent(address, e.pathOf("address"));
        if (clash != null) {
          e.problem("address", address + " is also " + clash + " (expected: unique listener addresses)");
        }
      }
      List<String> proxyFrom = e.strings("proxy-protocol-from", List.of());
      try {
        dev.meridian.balancer.geo.TrustedProxies.of(proxyFrom);
      } catch (IllegalArgumentException bad) {
        e.problem("proxy-protocol-from", bad.getMessage() + " (expected: networks such as \"10.0.0.0/8\")");
      }
      java.util.OptionalInt maxConnections = e.has("max-connections")
          ? java.util.OptionalInt.of(e.integer("max-connections", 1)) : java.util.OptionalInt.empty();
      out.add(new ListenerSettings(name, address, e.has("tls") ? e.object("tls").flatMap(TlsReader::server)
          : Optional.empty(), proxyFrom, maxConnections));
    }
    return out;
  }

  /** The token in a token file: its first line, trimmed, at least 16 characters. */
  private static Optional<String> readToken(ObjectReader admin, java.nio.file.Path file) {
    String token;
    try {
      token = java.nio.file.Files.readAllLines(file).stream().findFirst().orElse("").trim();
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      admin.problem("token-file", "cannot read " + file + " (expected: a readable file whose first line is the token)");
      return Optional.empty();
    }
    if (token.length() < 16 || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      admin.problem("token-file", file + " holds no usable token (expected: at least 16 visible ASCII characters"
          + " on the first line, such as the output of: openssl rand -hex 32)");
      return Optional.empty();
    }
    return Optional.of(token);
  }

  /** The names the admin API may be called by besides IP addresses, localhost and names without a dot. */
  private static List<String> allowedHosts(ObjectReader admin) {
    List<String> names = admin.strings("allowed-hosts", List.of());
    for (String name : names) {
      if (name.isBlank() || name.contains(":") || name.contains("/") || name.contains(" ")) {
        admin.problem("allowed-hosts", "'" + name + "' is not a host name (expected: names such as"
            + " \"admin.example.internal\", without port or scheme)");
      }
    }
    return names.stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)).toList();
  }

  /** Reads {@code admin}; an enabled admin listener must not share an address with a listener. */
  AdminSettings admin(List<ListenerSettings> listeners) {
    ObjectReader admin = meridian.section("admin");
    boolean enabled = admin.bool("enabled");
    HostPort address = address(admin, "address", 0);
    for (ListenerSettings l : listeners) {
      if (enabled && address.port() != 0 && address.equals(l.address())) {
        admin.problem("address", address + " is also the address of listener '" + l.name()
            + "' (expected: a separate address for admin, or admin.enabled = false)");
      }
    }
    Optional<String> token = admin.optionalPath("token-file").flatMap(file -> readToken(admin, file));
    return new AdminSettings(enabled, address, token, admin.bool("metrics"), allowedHosts(admin));
  }

  /**
   * Reads {@code backend-groups}: each with a known strategy and at least one backend entry;
   * {@code zones} maps the zones of Kubernetes endpoints to regions.
   */
  Map<String, BackendGroupSettings> backendGroups(Optional<String> region, Map<String, String> zones) {
    Map<String, BackendGroupSettings> out = new LinkedHashMap<>();
    Optional<ObjectReader> groups = meridian.object("backend-groups");
    if (groups.isEmpty()) {
      return out;
    }
    Map<String, BackendGroupSettings> byId = new HashMap<>();
    for (String name : groups.get().keysInFileOrder()) {
      groups.get().object(name).ifPresent(g -> {
        BackendGroupSettings group = group(name, g, region.orElse("default"), zones);
        out.put(name, group);
        checkSharedIds(g, group, byId);
      });
    }
    return out;
  }

  /**
   * A backend id written in two groups names one server, spoken to one way (connections to it are
   * pooled by id and address): refused when the groups send it with other protocol, TLS or PROXY
   * protocol settings. {@code byId} holds the group each id and address was first seen in.
   */
  private static void checkSharedIds(ObjectReader g, BackendGroupSettings group,
      Map<String, BackendGroupSettings> byId) {
    for (BackendSettings b : group.backends()) {
      BackendGroupSettings first = byId.putIfAbsent(b.id() + '\0' + b.address(), group);
      if (first != null && (first.protocol() != group.protocol() || first.proxyProtocol() != group.proxyProtocol()
          || !first.tls().equals(group.tls()))) {
        g.problem("backends", "backend '" + b.id() + "' is also in group '" + first.name() + "', which speaks to it"
            + " with other protocol, tls or proxy-protocol settings (expected: the same settings, or an id of"
            + " its own in each group: id = \"...\")");
      }
    }
  }

  private static BackendGroupSettings group(String name, ObjectReader g, String defaultRegion,
      Map<String, String> zones) {
    String strategy = g.string("strategy", "round-robin");
    if (!Strategies.NAMES.contains(strategy)) {
      g.problem("strategy", "unknown strategy '" + strategy + "' (expected: one of "
          + String.join(", ", new TreeSet<>(Strategies.NAMES)) + ")");
    }
    BackendEntries entries = BackendEntries.read(g, defaultRegion, zones);
    UpstreamTlsSettings tls = g.has("tls") ? g.object("tls").map(TlsReader::upstream)
        .orElse(UpstreamTlsSettings.DISABLED) : UpstreamTlsSettings.DISABLED;
    UpstreamProtocol protocol = protocol(g, tls);
    return new BackendGroupSettings(name, strategy, entries.backends(), SteeringReader.regions(g, entries.regions(), entries.namedRegions()),
        SteeringReader.hash(g), g.has("ewma-decay") ? g.duration("ewma-decay") : Duration.ofSeconds(10),
        HealthReader.health(g), tls, protocol, limits(g), proxyProtocol(g, protocol), entries.sources());
  }

  /**
   * Reads {@code proxy-protocol}: none, v1 or v2. Refused with HTTP/2, whose connections carry many
   * clients' requests while a PROXY header names one client per connection.
   */
  private static UpstreamProxyProtocol proxyProtocol(ObjectReader g, UpstreamProtocol protocol) {
    String name = g.string("proxy-protocol", UpstreamProxyProtocol.NONE.configName());
    UpstreamProxyProtocol version = UpstreamProxyProtocol.fromConfig(name);
    if (version == null) {
      g.problem("proxy-protocol", "unknown PROXY protocol version '" + name + "' (expected: none, v1 or v2)");
      return UpstreamProxyProtocol.NONE;
    }
    if (version.sends() && protocol.isHttp2()) {
      g.problem("proxy-protocol", "a PROXY protocol header names one client per connection, but protocol "
          + protocol.configName() + " carries many clients' requests on each connection (expected: protocol = "
          + "http1 with proxy-protocol, or proxy-protocol = none)");
      return UpstreamProxyProtocol.NONE;
    }
    return version;
  }

  /** Reads {@code limits}: per-backend concurrency and the queue in front of full backends. */
  private static BackendLimitSettings limits(ObjectReader g) {
    if (!g.has("limits")) {
      return BackendLimitSettings.NONE;
    }
    return g.object("limits").map(l -> new BackendLimitSettings(
        l.integer("max-connections", BackendLimitSettings.NONE.maxConnections(), 0),
        l.integer("max-pending", BackendLimitSettings.NONE.maxPending(), 0),
        l.has("queue-timeout") ? l.duration("queue-timeout") : BackendLimitSettings.NONE.queueTimeout()))
        .orElse(BackendLimitSettings.NONE);
  }

  /** Reads {@code protocol}: h2 needs TLS (ALPN), h2c must not have it. */
  private static UpstreamProtocol protocol(ObjectReader g, UpstreamTlsSettings tls) {
    String name = g.string("protocol", UpstreamProtocol.HTTP1.configName());
    UpstreamProtocol protocol = UpstreamProtocol.fromConfig(name);
    if (protocol == null) {
      g.problem("protocol", "unknown protocol '" + name + "' (expected: http1, h2 or h2c)");
      return UpstreamProtocol.HTTP1;
    }
    if (protocol == UpstreamProtocol.H2 && !tls.enabled()) {
      g.problem("protocol", "h2 is negotiated over TLS, but tls.enabled is not true"
          + " (expected: tls { enabled = true } or protocol = h2c for cleartext HTTP/2)");
    } else if (protocol == UpstreamProtocol.H2C && tls.enabled()) {
      g.problem("protocol", "h2c is cleartext HTTP/2, but tls.enabled is true"
          + " (expected: protocol = h2 for HTTP/2 over TLS)");
    }
    return protocol;
  }

  /** Reads a required {@code host:port} whose port is at least {@code minPort}. */
  static HostPort address(ObjectReader r, String key, int minPort) {
    Optional<String> given = r.requiredString(key);
    if (given.isEmpty()) {
      return INVALID;
    }
    String text = given.get();
    try {
      HostPort address = HostPort.parse(text);
      if (address.port() < minPort) {
        r.problem(key, "'" + text + "' has port " + address.port() + " (expected: port 1-65535)");
      }
      return address;
    } catch (IllegalArgumentException e) {
      // HostPort knows ports 0-65535; here the range is minPort-65535 (a backend's port is never 0).
      r.problem(key, e.getMessage().replace("expected: 0-65535", "expected: port " + minPort + "-65535"));
      return INVALID;
    }
  }
}
