package dev.meridian.proxy.http;

import dev.meridian.proxy.http1.FieldNames;
import dev.meridian.proxy.http1.RawHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The request headers by which proxies tell backends who the client is and how it connected. A
 * client can write them as easily as a proxy can, so those a client sent are dropped unless it is a
 * proxy Meridian trusts ({@code meridian.geo.trusted-proxies}); Meridian then adds its own
 * ({@link RequestHeadRewriter}), and a backend never takes a client's claim for a proxy's.
 */
public final class ForwardingHeaders {
  /** The scheme the client used, by a proxy's account. */
  public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");

  /** The Host the client asked for, by a proxy's account. */
  public static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");

  private static final List<AsciiString> LOWER_CASE_NAMES = List.of(
      AsciiString.cached("x-forwarded-for"),
      AsciiString.cached("x-forwarded-host"),
      AsciiString.cached("x-forwarded-proto"),
      AsciiString.cached("x-forwarded-port"),
      AsciiString.cached("x-forwarded-prefix"),
      AsciiString.cached("x-real-ip"),
      AsciiString.cached("forwarded"),
      // Not sent by Meridian, but read for the client's address by many frameworks and CMSs
      // (Rails' remote_ip reads Client-IP, PHP code HTTP_CLIENT_IP, HTTP_TRUE_CLIENT_IP...): a client
      // must not set them either.
      AsciiString.cached("client-ip"),
      AsciiString.cached("x-client-ip"),
      AsciiString.cached("true-client-ip"),
      AsciiString.cached("x-cluster-client-ip"),
      AsciiString.cached("x-forwarded-server"),
      // Read as the scheme the client used (Rack reads X-Forwarded-Ssl: on and X-Forwarded-Scheme
      // before X-Forwarded-Proto; IIS and others Front-End-Https, X-Url-Scheme), and as a client
      // certificate a proxy verified (Envoy's XFCC, which Envoy drops from clients too).
      AsciiString.cached("x-forwarded-ssl"),
      AsciiString.cached("x-forwarded-scheme"),
      AsciiString.cached("front-end-https"),
      AsciiString.cached("x-url-scheme"),
      AsciiString.cached("x-forwarded-client-cert"),
      // A client certificate as other proxies pass a verified one on, which backends read as the
      // client's identity: RFC 9440's Client-Cert and Client-Cert-Chain, nginx and HAProxy setups'
      // X-SSL-Client-*, Traefik's, Azure's and AWS ALB's. A client must not bring its own.
      AsciiString.cached("client-cert"),
      AsciiString.cached("client-cert-chain"),
      AsciiString.cached("x-ssl-client-cert"),
      AsciiString.cached("x-ssl-client-dn"),
      AsciiString.cached("x-ssl-client-s-dn"),
      AsciiString.cached("x-ssl-client-i-dn"),
      AsciiString.cached("x-ssl-client-cn"),
      AsciiString.cached("x-ssl-client-verify"),
      AsciiString.cached("x-ssl-client-serial"),
      AsciiString.cached("x-ssl-client-fingerprint"),
      AsciiString.cached("x-ssl-cert"),
      AsciiString.cached("x-client-cert"),
      AsciiString.cached("x-client-dn"),
      AsciiString.cached("x-client-verify"),
      AsciiString.cached("ssl-client-cert"),
      AsciiString.cached("ssl-client-subject-dn"),
      AsciiString.cached("ssl-client-issuer-dn"),
      AsciiString.cached("ssl-client-verify"),
      AsciiString.cached("x-forwarded-tls-client-cert"),
      AsciiString.cached("x-forwarded-tls-client-cert-info"),
      AsciiString.cached("x-arr-clientcert"),
      AsciiString.cached("x-amzn-mtls-clientcert"));
  /** The names, also matched with {@code _} for {@code -} (X_Forwarded_For: see {@link FieldNames#eitherSeparator}). */
  private static final FieldNames NAMES = FieldNames.eitherSeparator(LOWER_CASE_NAMES);
  /** Only their spellings with {@code _}, which no proxy sends. */
  private static final FieldNames UNDERSCORE_SPELLINGS = FieldNames.underscoreSpellings(LOWER_CASE_NAMES);

  private ForwardingHeaders() {}

  /**
   * Removes every forwarding header from a request that came from a client Meridian does not
   * trust, in either spelling: a backend that reads {@code X_Forwarded_For} as
   * {@code X-Forwarded-For} (CGI, WSGI, Rack) must not find a client's claim there.
   */
  public static void stripUntrusted(HttpHeaders headers) {
    strip(headers, NAMES);
  }

  /**
   * Removes the forwarding headers spelled with {@code _} from a request that came from a trusted
   * proxy, whose dash spellings are kept: no proxy sends {@code X_Forwarded_For}, so one there is a
   * client's, passed on by a proxy that does not know a backend reads it as {@code X-Forwarded-For}.
   */
  public static void stripUnderscoreSpellings(HttpHeaders headers) {
    strip(headers, UNDERSCORE_SPELLINGS);
  }

  /** Removes the fields whose names are in the set (one pass over a head read in place). */
  static void strip(HttpHeaders headers, FieldNames names) {
    if (headers instanceof RawHeaders raw) {
      raw.removeAll(names); // one pass over the fields, usually none of these lengths
      return;
    }
    List<String> found = new ArrayList<>();
    for (Map.Entry<String, String> field : headers) {
      if (names.containsEitherSeparator(field.getKey())) {
        found.add(field.getKey());
      }
    }
    for (String name : found) {
      headers.remove(name);
    }
  }
}
