package dev.meridian.proxy.upstream;

/**
 * How Meridian reaches one backend: the HTTP version it speaks and, when the group enables it, TLS.
 *
 * @param protocol HTTP/1.1, HTTP/2 over TLS or cleartext HTTP/2
 * @param tls      TLS towards the backend, or null for cleartext
 */
public record BackendLink(UpstreamProtocol protocol, UpstreamTls tls) {
  /** HTTP/1.1 over cleartext TCP: the default. */
  public static final BackendLink HTTP1_CLEARTEXT = new BackendLink(UpstreamProtocol.HTTP1, null);
}
