package dev.meridian.proxy.http1;

import io.netty.handler.codec.DecoderException;

/** Thrown when a request head breaks a rule Meridian enforces strictly (obs-fold, whitespace before a colon). */
public final class MalformedHeadException extends DecoderException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message saying which rule was broken. */
  public MalformedHeadException(String message) {
    super(message);
  }
}
