package dev.meridian.proxy.server;

import dev.meridian.proxy.metrics.ProxyMetrics;
import dev.meridian.proxy.metrics.ProxyMetrics.RouteRequests;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * The meters a connection recorded on last: its route's request counters and its backend's
 * response timer. A connection's requests mostly take one route to one backend, so the next request
 * records without looking its meters up by name.
 *
 * <p>Not thread-safe: one per connection, used on its event loop.
 */
final class MeterMemo {
  private final ProxyMetrics metrics;
  private RouteRequests routeRequests;
  private String groupName;
  private String backendId;
  private Timer upstreamResponseTime;
  /** {@link ProxyMetrics#backendsForgotten} when the timer was looked up: it may have been removed since. */
  private int backendsForgotten;

  MeterMemo(ProxyMetrics metrics) {
    this.metrics = metrics;
  }

  /**
   * Records a finished request of this route ({@code none} when unrouted): its status, time from head
   * to end, and body bytes received and sent.
   */
  void requestFinished(String route, int status, long nanos, long bytesIn, long bytesOut) {
    RouteRequests requests = routeRequests;
    if (requests == null || !requests.route().equals(route)) {
      requests = metrics.routeRequests(route);
      routeRequests = requests;
    }
    metrics.requestFinished(requests, status, nanos, bytesIn, bytesOut);
  }

  /** Records a backend's time from the request sent to its response headers. */
  void upstreamResponded(String group, String backend, long nanos) {
    Timer timer = upstreamResponseTime;
    int forgotten = metrics.backendsForgotten();
    if (timer == null || !backend.equals(backendId) || !group.equals(groupName) || forgotten != backendsForgotten) {
      timer = metrics.upstreamResponseTime(group, backend);
      upstreamResponseTime = timer;
      backendsForgotten = forgotten;
      backendId = backend;
      groupName = group;
    }
    timer.record(nanos, TimeUnit.NANOSECONDS);
  }
}
