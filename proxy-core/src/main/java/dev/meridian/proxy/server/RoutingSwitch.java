package dev.meridian.proxy.server;

import dev.meridian.health.OutlierDetector;
import java.util.Map;

/**
 * Puts a newly assembled routing (a reload's, or a discovery update's) in force beside the running
 * one: the upstream links first, then health checks for the new groups, the one-step swap of routes,
 * groups and policies, their meters; then the old groups' checks stop, and what the old ones held of
 * the backends that left (outlier ejections, meters) is cleared. The statistics, health marks and
 * pooled connections of the backends that stay were carried into the new groups by the assembler.
 */
final class RoutingSwitch {

  private RoutingSwitch() {}

  /** Puts {@code assembly}'s routing and {@code policies} in force; returns the routing now in force. */
  static Routing putInForce(ProxyContext context, RoutingAssembler assembler, RoutingAssembler.Assembly assembly,
      RequestPolicies policies) {
    Routing old = context.routing();
    Map<String, GroupRuntime> runtimes = assembly.routing().groups();
    context.pools.links(assembly.links());
    runtimes.values().forEach(r -> {
      if (r.checker() != null) {
        r.checker().start();
      }
    });
    // The backends that stay keep their ejections; what the old groups' requests still in flight
    // meet counts in the new detectors from here on.
    runtimes.values().forEach(r -> {
      GroupRuntime before = old.groups().get(r.group().name());
      if (before != null) {
        r.outliers().takeOver(before.outliers());
      }
    });
    context.swap(assembly.routing(), policies);
    // A backend whose address the reload changed is another backend (its stats start anew): its
    // meters, which read the old one, are made again for the new one.
    old.groups().values().forEach(r -> {
      GroupRuntime next = runtimes.get(r.group().name());
      r.group().backends().stream().filter(b -> next != null && next.group().find(b.id()) != null
          && !next.group().find(b.id()).equals(b)).forEach(b -> context.metrics.forgetBackendReadings(r.group().name(), b.id()));
    });
    MeterReadings.register(context, runtimes, assembler::health);
    old.groups().values().forEach(r -> {
      if (r.checker() != null) {
        r.checker().close();
      }
      // The old detector no longer ticks: the ejections of backends the new one did not take over would never end.
      GroupRuntime next = runtimes.get(r.group().name());
      r.group().backends().stream().filter(b -> next == null || next.group().find(b.id()) == null).forEach(b -> {
        assembler.health(r.group().name()).clear(b.id(), OutlierDetector.OWNER);
        if (next != null) {
          context.metrics.forgetBackend(r.group().name(), b.id());
        }
      });
    });
    assembler.keepOnly(runtimes.keySet());
    return assembly.routing();
  }
}
