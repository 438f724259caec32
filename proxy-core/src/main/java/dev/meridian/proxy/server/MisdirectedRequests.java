package dev.meridian.proxy.server;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslContext;
import io.netty.util.Mapping;

/**
 * Refuses a request over TLS whose {@code Host} (or {@code :authority}) would have chosen another
 * certificate than the one the connection's SNI chose: 421 Misdirected Request (RFC 9110 section
 * 15.5.20), so that a client cannot reach one site's routes through a connection made for another
 * (domain fronting). A host the same certificate covers (HTTP/2 connection reuse across the names of
 * one certificate) is served; browsers answer a 421 by retrying on a connection of its own.
 */
final class MisdirectedRequests {
  private MisdirectedRequests() {}

  /**
   * The local answer for a request to {@code host} (normalized: lower case, no port), or null when it
   * may go on: cleartext, no SNI, the same name, or a name the same certificate serves.
   */
  static RequestAdmission.Verdict check(String host, ConnectionMemo connection, ProxyContext context) {
    if (host == null) {
      return null;
    }
    String sni = connection.serverName();
    if (sni == null || sni.equalsIgnoreCase(host)) {
      return null;
    }
    Mapping<String, SslContext> certificates = context.certificates(connection.localPort());
    if (certificates == null || certificates.map(host) == certificates.map(sni)) {
      return null;
    }
    return new RequestAdmission.Verdict(HttpResponseStatus.MISDIRECTED_REQUEST, "host '" + host
        + "' is not served by the certificate this TLS connection chose for '" + sni + "'");
  }
}
