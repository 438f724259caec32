package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.BackendSourceSettings;
import dev.meridian.proxy.config.HostPort;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Turns a Service's EndpointSlices into backends: every address of every usable endpoint, on the
 * entry's port as that slice numbers it.
 *
 * <p>An endpoint is usable when its condition {@code ready} is true or absent (absent means ready, as
 * the API says) and it is not {@code terminating}; Kubernetes sets ready false on terminating
 * endpoints anyway, and a terminating one that still serves is left out so that its connections
 * drain. A slice without the port (by name, or by number) adds nothing. Topology hints are not read.
 */
final class EndpointSliceBackends {
  private EndpointSliceBackends() {}

  /** The backends of {@code slices} for {@code entry}, one per distinct id, sorted by id. */
  static List<BackendSettings> backends(Collection<EndpointSlice> slices, BackendSourceSettings.Kubernetes entry) {
    Map<String, BackendSettings> byId = new TreeMap<>();
    for (EndpointSlice slice : slices) {
      Integer port = port(slice, entry);
      if (port == null || slice.getEndpoints() == null) {
        continue;
      }
      for (Endpoint endpoint : slice.getEndpoints()) {
        if (!usable(endpoint.getConditions()) || endpoint.getAddresses() == null) {
          continue;
        }
        String zone = Objects.requireNonNullElse(endpoint.getZone(), "");
        for (String address : endpoint.getAddresses()) {
          HostPort hostPort = new HostPort(address, port);
          byId.putIfAbsent(hostPort.toString(), new BackendSettings(hostPort.toString(), hostPort,
              entry.regionOf(zone), zone, entry.weight()));
        }
      }
    }
    return List.copyOf(byId.values());
  }

  /** Whether an endpoint with these conditions takes new requests. */
  static boolean usable(EndpointConditions conditions) {
    if (conditions == null) {
      return true;
    }
    return !Boolean.FALSE.equals(conditions.getReady()) && !Boolean.TRUE.equals(conditions.getTerminating());
  }

  /** The entry's port number in {@code slice}, or null when the slice does not have it. */
  private static Integer port(EndpointSlice slice, BackendSourceSettings.Kubernetes entry) {
    if (slice.getPorts() == null) {
      return null;
    }
    for (EndpointPort p : slice.getPorts()) {
      if (p.getPort() == null || p.getPort() < 1) {
        continue;
      }
      boolean matches = entry.portName().isEmpty() ? p.getPort() == entry.portNumber()
          : entry.portName().equals(Objects.requireNonNullElse(p.getName(), ""));
      if (matches) {
        return p.getPort();
      }
    }
    return null;
  }
}
