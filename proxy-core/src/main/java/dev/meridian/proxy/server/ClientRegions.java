package dev.meridian.proxy.server;

import dev.meridian.balancer.geo.ClientRegionResolver;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;

/** Finds a request's client region from its peer address and headers, as {@code meridian.geo} says. */
final class ClientRegions implements AutoCloseable {
  private final ClientRegionResolver resolver;

  ClientRegions(ClientRegionResolver resolver) {
    this.resolver = resolver;
  }

  /** The client's region, or null when nothing configured tells it. */
  String resolve(InetAddress peer, HttpHeaders headers) {
    return peer == null ? null : resolver.resolve(peer, headers::get);
  }

  @Override
  public void close() {
    resolver.close();
  }
}
