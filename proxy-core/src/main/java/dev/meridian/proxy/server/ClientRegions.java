package dev.meridian.proxy.server;

import dev.meridian.balancer.geo.ClientRegionResolver;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.util.List;

/** Finds a request's client region from its peer address and headers, as {@code meridian.geo} says. */
final class ClientRegions implements AutoCloseable {
  private final ClientRegionResolver resolver;
  private final boolean configured;

  /**
   * Wraps a resolver.
   *
   * @param configured whether {@code meridian.geo} names any source; when not, every request skips
   *     the lookup (and its copy of the peer address)
   */
  ClientRegions(ClientRegionResolver resolver, boolean configured) {
    this.resolver = resolver;
    this.configured = configured;
  }

  /** The client's region, or null when nothing configured tells it. */
  String resolve(InetAddress peer, HttpHeaders headers) {
    return peer == null || !configured ? null : resolver.resolve(peer, name -> joined(headers, name));
  }

  /** A header's value, repeated fields joined with ", " (as the resolver expects for X-Forwarded-For). */
  private static String joined(HttpHeaders headers, String name) {
    List<String> all = headers.getAll(name);
    if (all.isEmpty()) {
      return null;
    }
    return all.size() == 1 ? all.get(0) : String.join(", ", all);
  }

  @Override
  public void close() {
    resolver.close();
  }
}
