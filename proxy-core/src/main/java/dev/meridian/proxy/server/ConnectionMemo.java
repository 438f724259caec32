package dev.meridian.proxy.server;

import dev.meridian.balancer.geo.TrustedProxies;
import dev.meridian.proxy.http.RequestHeadRewriter;
import dev.meridian.proxy.http1.RawHeaders;
import dev.meridian.proxy.metrics.ProxyMetrics;
import dev.meridian.proxy.upstream.ClientConnection;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.ssl.SslHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import io.netty.util.AttributeKey;
import javax.net.ssl.SSLSession;

/**
 * What the requests of one client connection share, whichever HTTP/2 stream each comes on: the
 * client's address and TLS session facts (read once per connection, not once per stream), the last
 * Forwarded element and the meters recorded on last. An HTTP/1.1 connection has one of its own; an HTTP/2 connection's
 * streams share the connection's.
 *
 * <p>Not thread-safe: used on the connection's event loop, which its streams share.
 */
final class ConnectionMemo {
  /** The server name a TLS client asked for (SNI), lower case, as the SNI handler read it. */
  static final AttributeKey<String> SERVER_NAME = AttributeKey.valueOf("meridian.server-name");

  /** The connection's last Forwarded element, reused while client, host and scheme stay the same. */
  final RequestHeadRewriter.ForwardedMemo forwarded = new RequestHeadRewriter.ForwardedMemo();
  /** The meters the connection recorded on last. */
  final MeterMemo meters;
  private final TrustedProxies trustedProxies;
  private boolean identified;
  private boolean peerTrusted;
  private InetAddress clientAddress;
  private String clientIp;
  private Channel connection;
  /** The client as upstream connections that send the PROXY protocol name it; built when first asked. */
  private ClientConnection upstreamClient;
  /** The Host of the connection's last request that passed the checks, or null. */
  private String checkedHost;
  private boolean tlsRead;
  private String tlsVersion;
  private String serverName;
  private String clientCertField;

  /**
   * The request's Host value, or null: the very string of the connection's last checked Host when
   * the bytes are the same (a connection's requests mostly repeat it), else a new one.
   */
  String host(HttpHeaders headers) {
    return headers instanceof RawHeaders raw
        ? raw.getReusing(HttpHeaderNames.HOST, checkedHost) : headers.get(HttpHeaderNames.HOST);
  }

  /** Whether {@code host} is the connection's last checked Host (the same string, checked already). */
  boolean isCheckedHost(String host) {
    return host != null && host == checkedHost;
  }

  /** Notes a Host value that passed the checks, for the connection's next requests. */
  void hostChecked(String host) {
    checkedHost = host;
  }

  ConnectionMemo(ProxyMetrics metrics, TrustedProxies trustedProxies) {
    this.meters = new MeterMemo(metrics);
    this.trustedProxies = trustedProxies;
  }

  /**
   * Reads the client's address from the connection (not a stream) the first time it is asked: the
   * one its PROXY protocol header named, else its peer's.
   */
  void identify(Channel connection) {
    if (identified) {
      return;
    }
    identified = true;
    this.connection = connection;
    InetSocketAddress proxied = connection.hasAttr(ProxyProtocolReader.CLIENT)
        ? connection.attr(ProxyProtocolReader.CLIENT).get() : null;
    if (proxied != null) {
      clientAddress = proxied.getAddress();
    } else {
      clientAddress = connection.remoteAddress() instanceof InetSocketAddress remote ? remote.getAddress() : null;
    }
    // RFC 5952 text for IPv6 (::1, not 0:0:0:0:0:0:0:1), as in X-Forwarded-For, Forwarded and the logs.
    clientIp = clientAddress == null ? "unknown" : io.netty.util.NetUtil.toAddressString(clientAddress);
    peerTrusted = clientAddress != null && trustedProxies.isTrustedPeer(clientAddress);
  }

  /** Whether the peer is a proxy Meridian trusts ({@code geo.trusted-proxies} or {@code trusted-hops}): its forwarding headers stand. */
  boolean peerTrusted() {
    return peerTrusted;
  }

  /** The client's address, or null when the connection did not say. */
  InetAddress clientAddress() {
    return clientAddress;
  }

  /**
   * The client connection as upstream connections of a group that sends the PROXY protocol name it
   * and are reserved for: the client address and port Meridian takes as the client's (the one the
   * connection's own PROXY header named, else the peer's) and the address it connected to (that
   * header's destination, else the listener's local address). A trusted proxy's X-Forwarded-For is
   * not used: it is per request, while a PROXY header speaks for the whole connection.
   */
  ClientConnection upstreamClient() {
    if (upstreamClient == null && connection != null) {
      InetSocketAddress source = null;
      InetSocketAddress destination = null;
      if (connection.hasAttr(ProxyProtocolReader.CLIENT)) {
        source = connection.attr(ProxyProtocolReader.CLIENT).get();
        destination = connection.attr(ProxyProtocolReader.DESTINATION).get();
      }
      if (source == null) {
        source = connection.remoteAddress() instanceof InetSocketAddress remote ? remote : null;
        destination = connection.localAddress() instanceof InetSocketAddress local ? local : null;
      }
      upstreamClient = new ClientConnection(connection, source, destination);
    }
    return upstreamClient;
  }

  /** The client's address for logs, or {@code unknown}. */
  String clientIp() {
    return clientIp;
  }

  /** The local port the connection came in on (which listener), or -1. */
  int localPort() {
    return connection != null && connection.localAddress() instanceof InetSocketAddress local ? local.getPort() : -1;
  }

  /** The TLS version the connection negotiated ({@code TLSv1.3}), or null for cleartext. */
  String tlsVersion() {
    readTls();
    return tlsVersion;
  }

  /** The server name the client asked for in TLS (SNI), or null. */
  String serverName() {
    readTls();
    return serverName;
  }

  /**
   * The client certificate the TLS handshake verified, as RFC 9440's {@code Client-Cert} field
   * value (its DER as a Structured Field byte sequence), or null when none was presented (cleartext,
   * or a listener without client-auth).
   */
  String clientCertField() {
    readTls();
    return clientCertField;
  }

  /** Reads the TLS session's version, requested server name and client certificate once, when first asked. */
  private void readTls() {
    if (tlsRead || connection == null) {
      return;
    }
    tlsRead = true;
    SslHandler ssl = connection.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return;
    }
    SSLSession session = ssl.engine().getSession();
    tlsVersion = session.getProtocol();
    // As the ClientHello named it: the JDK's SNIHostName (the session's view) throws on names a TLS
    // client may send and a certificate may match, such as a_b.test or a.test. (a wildcard covers the first).
    serverName = connection.attr(SERVER_NAME).get();
    if (!ssl.engine().getNeedClientAuth() && !ssl.engine().getWantClientAuth()) {
      return; // a listener without client-auth: no certificate to read
    }
    try {
      java.security.cert.Certificate[] peer = session.getPeerCertificates();
      if (peer.length > 0) {
        clientCertField = ':' + java.util.Base64.getEncoder().encodeToString(peer[0].getEncoded()) + ':';
      }
    } catch (javax.net.ssl.SSLPeerUnverifiedException | java.security.cert.CertificateEncodingException none) {
      clientCertField = null; // no client certificate (the usual case)
    }
  }
}
