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
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();

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
