package dev.meridian.proxy.server;

/**
 * A listener (or the admin listener) could not bind its address, most often because another process
 * holds the port: the message says which listener, which address and why, for an operator to read
 * without a stack trace.
 */
public final class ListenerUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Describes the failure to bind {@code address} for the listener named {@code name}. */
  public ListenerUnavailableException(String name, Object address, Throwable cause) {
    super(name + ": cannot listen on " + address + ": " + reason(cause), cause);
  }

  private static String reason(Throwable cause) {
    String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return message.contains("Address already in use") ? "address already in use (another process holds the port)" : message;
  }
}
