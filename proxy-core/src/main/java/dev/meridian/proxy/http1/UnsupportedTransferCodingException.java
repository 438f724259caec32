package dev.meridian.proxy.http1;

import io.netty.handler.codec.DecoderException;

/**
 * Thrown when a request names a Transfer-Encoding other than {@code chunked}: a well-formed request
 * Meridian cannot frame, answered 501 Not Implemented as RFC 9112 section 6.1 asks.
 */
public final class UnsupportedTransferCodingException extends DecoderException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was refused. */
  public UnsupportedTransferCodingException(String message) {
    super(message);
  }
}
