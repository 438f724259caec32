package dev.meridian.proxy.http1;

import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayDeque;

/**
 * The methods of requests decoded on one connection whose responses are not written yet, oldest
 * first; lets the response encoder know that a response answers a HEAD request and has no body.
 *
 * <p>Used only on the connection's event loop.
 */
final class MethodQueue {
  /**
   * Room for the usual one request in flight and one pipelined behind it (a deque's default room is
   * 16, held by every connection, idle ones included); it grows for a client that pipelines more.
   */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);

  void add(HttpMethod method) {
    methods.add(method);
  }

  /** Whether no method is waiting: every request written has had its final response begin. */
  boolean isEmpty() {
    return methods.isEmpty();
  }

  /** Removes and returns the oldest method, or null when none is waiting. */
  HttpMethod poll() {
    return methods.poll();
  }
}
