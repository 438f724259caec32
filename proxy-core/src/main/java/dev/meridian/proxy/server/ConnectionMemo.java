package dev.meridian.proxy.server;

import dev.meridian.proxy.http.RequestHeadRewriter;
import dev.meridian.proxy.metrics.ProxyMetrics;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * What the requests of one client connection share, whichever HTTP/2 stream each comes on: the
 * client's address (read once per connection, not once per stream), the last Forwarded element and
 * the meters recorded on last. An HTTP/1.1 connection has one of its own; an HTTP/2 connection's
 * streams share the connection's.
 *
 * <p>Not thread-safe: used on the connection's event loop, which its streams share.
 */
final class ConnectionMemo {
  /** The connection's last Forwarded element, reused while client, host and scheme stay the same. */
  final RequestHeadRewriter.ForwardedMemo forwarded = new RequestHeadRewriter.ForwardedMemo();
  /** The meters the connection recorded on last. */
  final MeterMemo meters;
  private boolean identified;
  private InetAddress clientAddress;
  private String clientIp;

  ConnectionMemo(ProxyMetrics metrics) {
    this.meters = new MeterMemo(metrics);
  }

  /** Reads the client's address from the connection (not a stream) the first time it is asked. */
  void identify(Channel connection) {
    if (identified) {
      return;
    }
    identified = true;
    clientAddress = connection.remoteAddress() instanceof InetSocketAddress remote ? remote.getAddress() : null;
    clientIp = clientAddress == null ? "unknown" : clientAddress.getHostAddress();
  }

  /** The client's address, or null when the connection did not say. */
  InetAddress clientAddress() {
    return clientAddress;
  }

  /** The client's address for logs, or {@code unknown}. */
  String clientIp() {
    return clientIp;
  }
}
