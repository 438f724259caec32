package dev.meridian.tls;

/** A certificate, key or CA file could not be used; the message names the file and what to fix. */
public final class TlsConfigException extends RuntimeException {
    public TlsConfigException(String message) {
        super(message);
    }

    public TlsConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
