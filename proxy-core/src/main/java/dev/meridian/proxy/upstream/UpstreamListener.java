package dev.meridian.proxy.upstream;

/**
 * Receives what happens on an upstream connection while a request uses it: the response's parts,
 * writability changes and the end of the connection. Called on the connection's event loop, which is
 * also the client connection's.
 */
public interface UpstreamListener {

  /** A decoded response part ({@code HttpResponse}, {@code HttpContent}) or, after a 101, raw bytes. */
  void onUpstreamMessage(Object msg);

  /** The backend's bytes read so far were all handed on; a good moment to flush the client. */
  void onUpstreamReadComplete();

  /** The connection's writability changed (it can take more of the request body, or not). */
  void onUpstreamWritabilityChanged(boolean writable);

  /** Nothing moved on the connection for the upstream idle timeout while the request used it. */
  void onUpstreamIdle();

  /** The connection closed or failed; {@code cause} is null for an orderly close. */
  void onUpstreamClosed(Throwable cause);
}
