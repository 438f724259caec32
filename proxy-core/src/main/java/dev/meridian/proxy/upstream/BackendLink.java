package dev.meridian.proxy.upstream;

/**
 * How Meridian reaches one backend: the HTTP version it speaks, TLS when the group enables it, and
 * whether each connection opens with a PROXY protocol header.
 *
 * @param protocol      HTTP/1.1, HTTP/2 over TLS or cleartext HTTP/2
 * @param tls           TLS towards the backend, or null for cleartext
 * @param proxyProtocol the PROXY protocol header each connection opens with; such a connection
 *                      carries one client's identity, so it only serves that client connection (see
 *                      {@link UpstreamPool}). HTTP/1.1 only: an HTTP/2 connection carries many clients.
 */
public record BackendLink(UpstreamProtocol protocol, UpstreamTls tls, UpstreamProxyProtocol proxyProtocol) {
  /** HTTP/1.1 over cleartext TCP: the default. */
  public static final BackendLink HTTP1_CLEARTEXT = new BackendLink(UpstreamProtocol.HTTP1, null);

  /** Checks that a PROXY protocol header goes only with HTTP/1.1. */
  public BackendLink {
    if (proxyProtocol.sends() && protocol.isHttp2()) {
      throw new IllegalArgumentException("proxy-protocol " + proxyProtocol.configName() + " with protocol "
          + protocol.configName() + " (expected: http1; an HTTP/2 connection carries many clients' requests)");
    }
  }

  /** A link without a PROXY protocol header. */
  public BackendLink(UpstreamProtocol protocol, UpstreamTls tls) {
    this(protocol, tls, UpstreamProxyProtocol.NONE);
  }

  /** Whether each connection carries one client's PROXY protocol header. */
  boolean carriesClient() {
    return proxyProtocol.sends();
  }
}
