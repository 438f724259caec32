package dev.meridian.proxy.http1;

import io.netty.handler.codec.TooLongFrameException;

/** Thrown when a request head has more header fields than {@code meridian.limits.max-header-count}. */
public final class TooManyHeadersException extends TooLongFrameException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception for a head that exceeded the limit. */
  public TooManyHeadersException(int limit) {
    super("more than " + limit + " header fields");
  }
}
