package dev.meridian.balancer;

import java.util.Map;
import java.util.Objects;

/**
 * One backend server a group can send requests to: where it listens, the region and zone it runs in,
 * and its relative weight.
 *
 * <p>Immutable; identity is the {@link #id()} and the address: the id is stable across config reloads
 * so health and latency state can follow a backend from one config to the next, and the address keeps
 * apart what must not be mixed up: two groups' backends that share an id (unique in a group only) but
 * not a server, and a backend whose address a reload changed (its pooled connections go to the old one).
 */
public final class Backend {
  private final String id;
  private final String host;
  private final int port;
  private final String region;
  private final String zone;
  private final int weight;
  private final Map<String, String> labels;
  private final String authority;

  /**
   * Creates a backend.
   *
   * @param id     stable identifier, unique in its group
   * @param host   host name or IP address
   * @param port   TCP port, 1-65535
   * @param region region name, never empty
   * @param zone   zone inside the region, may be empty
   * @param weight relative weight, at least 1
   * @param labels free-form labels, copied
   */
  public Backend(String id, String host, int port, String region, String zone, int weight,
      Map<String, String> labels) {
    this.id = requireText(id, "id");
    this.host = requireText(host, "host");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
    }
    if (weight < 1) {
      throw new IllegalArgumentException("weight: " + weight + " (expected: >= 1)");
    }
    this.port = port;
    this.region = requireText(region, "region");
    this.zone = Objects.requireNonNull(zone, "zone");
    this.weight = weight;
    this.labels = Map.copyOf(labels);
    this.authority = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** Creates a backend with no zone and no labels. */
  public Backend(String id, String host, int port, String region, int weight) {
    this(id, host, port, region, "", weight, Map.of());
  }

  private static String requireText(String value, String name) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(name + ": empty (expected: non-empty text)");
    }
    return value;
  }

  public String id() {
    return id;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public String region() {
    return region;
  }

  public String zone() {
    return zone;
  }

  public int weight() {
    return weight;
  }

  public Map<String, String> labels() {
    return labels;
  }

  /** The address as {@code host:port}, IPv6 hosts in brackets. */
  public String authority() {
    return authority;
  }

  @Override
  public boolean equals(Object o) {
    return o == this || o instanceof Backend other && id.equals(other.id) && port == other.port
        && host.equals(other.host);
  }

  @Override
  public int hashCode() {
    return id.hashCode() * 31 + port;
  }

  @Override
  public String toString() {
    return id + " (" + authority() + ", " + region + ")";
  }
}
