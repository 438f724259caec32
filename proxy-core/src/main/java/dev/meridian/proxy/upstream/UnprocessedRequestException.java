package dev.meridian.proxy.upstream;

import java.io.IOException;

/**
 * The backend ended a request's HTTP/2 stream and said it did not process it (a GOAWAY whose last
 * stream id is below the stream's, or RST_STREAM with REFUSED_STREAM): the request may be sent again,
 * whatever its method.
 */
public final class UnprocessedRequestException extends IOException {
  private static final long serialVersionUID = 1L;

  UnprocessedRequestException(String message) {
    super(message, null);
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
