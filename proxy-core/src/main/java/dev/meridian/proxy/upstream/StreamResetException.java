package dev.meridian.proxy.upstream;

import java.io.IOException;

/** The backend reset a request's HTTP/2 stream (RST_STREAM) with an error code other than REFUSED_STREAM. */
public final class StreamResetException extends IOException {
  private static final long serialVersionUID = 1L;

  StreamResetException(String message) {
    super(message, null);
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
