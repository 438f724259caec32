package dev.meridian.proxy.server;

/**
 * A valid configuration could not be put in force (a new listener's address is taken, its
 * certificates do not load): nothing of it was applied and the configuration in force keeps serving.
 * The message says what failed, for an operator to read without a stack trace.
 */
public final class ReloadRefusedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Wraps what stopped the reload. */
  public ReloadRefusedException(Throwable cause) {
    super(cause.getMessage() == null ? cause.toString() : cause.getMessage(), cause);
  }
}
