package dev.meridian.proxy.config;

import java.nio.file.Path;

/**
 * Where a backend group finds backends that are not written in the configuration: a DNS name (A and
 * AAAA), a DNS SRV name, a file, or a Kubernetes Service. Each value says what to ask and what every backend found there
 * carries; {@code where} is its place in the configuration, for log lines.
 */
public sealed interface BackendSourceSettings {

  /** Its place in the configuration, e.g. {@code meridian.backend-groups.app.backends[1]}. */
  String where();

  /**
   * {@code backends[] = { dns = "NAME:PORT" }}: every A and AAAA address of the name is a backend on
   * the port, with the entry's region, zone and weight.
   */
  record Dns(String where, String name, int port, String region, String zone, int weight)
      implements BackendSourceSettings {}

  /**
   * {@code backends[] = { srv = "_service._proto.NAME" }}: every address of every target of the
   * lowest priority in use is a backend on the target's port, weighted by the record's weight, with
   * the entry's region and zone.
   */
  record Srv(String where, String name, String region, String zone) implements BackendSourceSettings {}

  /**
   * {@code backends-file = "PATH"}: the backends listed in a JSON or HOCON file, re-read when it
   * changes; entries without a region take {@code defaultRegion}.
   */
  record File(String where, Path file, String defaultRegion) implements BackendSourceSettings {}

  /**
   * {@code backends[] = { kubernetes { namespace, service, port } }}: every ready endpoint of the
   * Service's EndpointSlices is a backend on the port, in the region {@link #regionOf} says.
   *
   * @param namespace     the Service's namespace; empty: the client's (the pod's own in a cluster)
   * @param service       the Service's name (EndpointSlices labelled {@code kubernetes.io/service-name})
   * @param portName      the Service port's name, or empty when {@code portNumber} is given
   * @param portNumber    the endpoints' port number, or 0 when {@code portName} is given
   * @param zones         zone to region ({@code discovery.kubernetes.zones})
   * @param region        the region written on the entry, or empty
   * @param defaultRegion {@code meridian.region}, else {@code default}
   * @param weight        every backend's weight
   */
  record Kubernetes(String where, String namespace, String service, String portName, int portNumber,
      java.util.Map<String, String> zones, String region, String defaultRegion, int weight)
      implements BackendSourceSettings {

    /**
     * The region of an endpoint in {@code zone} (empty: none): the zone's in {@code zones}; else the
     * entry's region; else the zone itself; else the default region.
     */
    public String regionOf(String zone) {
      String mapped = zones.get(zone);
      if (mapped != null) {
        return mapped;
      }
      if (!region.isEmpty()) {
        return region;
      }
      return zone.isEmpty() ? defaultRegion : zone;
    }

    /** The port as written: its name or number. */
    public String port() {
      return portName.isEmpty() ? Integer.toString(portNumber) : portName;
    }
  }
}
