package dev.meridian.proxy.config;

import java.nio.file.Path;

/**
 * Where a backend group finds backends that are not written in the configuration: a DNS name (A and
 * AAAA), a DNS SRV name, or a file. Each value says what to ask and what every backend found there
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
}
