package dev.meridian.proxy.config;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads a Kubernetes backend entry, {@code backends[] = { kubernetes { namespace, service, port } }},
 * checking the names as Kubernetes would (lower-case DNS labels) so that a typo is refused at load
 * rather than watched for ever.
 */
final class KubernetesEntry {
  /** A DNS-1123 label: what namespaces, Service names (more strictly) and port names are. */
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern DIGITS = Pattern.compile("[0-9]+");

  private KubernetesEntry() {}

  /** Reads the entry {@code b}; {@code zones} maps zones to regions. */
  static BackendSourceSettings.Kubernetes read(ObjectReader b, String defaultRegion, Map<String, String> zones) {
    BackendEntries.noId(b, "kubernetes");
    if (b.has("zone")) {
      b.problem("zone", "a kubernetes entry's zones come from its EndpointSlices (expected: no zone here;"
          + " map zones to regions in discovery.kubernetes.zones)");
    }
    String region = b.string("region", "");
    int weight = b.integer("weight", 1, 1);
    String where = b.pathOf("kubernetes");
    ObjectReader k = b.object("kubernetes").orElse(null);
    if (k == null) {
      return new BackendSourceSettings.Kubernetes(where, "", "", "", 1, Map.copyOf(zones), region, defaultRegion,
          weight);
    }
    String namespace = k.string("namespace", "");
    if (!namespace.isEmpty() && !LABEL.matcher(namespace).matches()) {
      k.problem("namespace", "'" + namespace + "' is not a namespace name (expected: lower-case letters, digits"
          + " and '-', at most 63, e.g. \"shop\"; leave out for the pod's own namespace)");
    }
    String service = k.requiredString("service").orElse("");
    if (k.has("service") && !LABEL.matcher(service).matches()) {
      k.problem("service", "'" + service + "' is not a Service name (expected: lower-case letters, digits and"
          + " '-', at most 63, e.g. \"app\")");
    }
    String port = k.requiredString("port").orElse("");
    String portName = "";
    int portNumber = 0;
    if (DIGITS.matcher(port).matches()) {
      portNumber = port.length() > 5 ? 0 : Integer.parseInt(port);
      if (portNumber < 1 || portNumber > 65535) {
        k.problem("port", port + " is not a port number (expected: 1-65535, or the Service port's name)");
        portNumber = 1;
      }
    } else {
      portName = port;
      if (k.has("port") && !LABEL.matcher(port).matches()) {
        k.problem("port", "'" + port + "' is not a port name (expected: the Service port's name such as \"http\","
            + " or the endpoints' port number such as 8080)");
      }
    }
    return new BackendSourceSettings.Kubernetes(where, namespace, service, portName, portNumber, Map.copyOf(zones),
        region, defaultRegion, weight);
  }
}
