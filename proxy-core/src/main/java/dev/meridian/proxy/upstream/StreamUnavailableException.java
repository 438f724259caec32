package dev.meridian.proxy.upstream;

import java.io.IOException;

/**
 * No HTTP/2 stream to a backend came free within the connect timeout: every connection to it carries
 * as many streams as it allows. The backend is busy, not failing, so this is not reported to outlier
 * detection; a retry elsewhere spends the route's retry budget like any retry.
 */
public final class StreamUnavailableException extends IOException {
  /** Creates the exception with its message. */
  public StreamUnavailableException(String message) {
    super(message);
  }
}
