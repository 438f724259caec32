package dev.meridian.proxy.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * The request headers by which proxies tell backends who the client is and how it connected. A
 * client can write them as easily as a proxy can, so those a client sent are dropped unless it is a
 * proxy Meridian trusts ({@code meridian.geo.trusted-proxies}); Meridian then adds its own
 * ({@link RequestHeadRewriter}), and a backend never takes a client's claim for a proxy's.
 */
public final class ForwardingHeaders {
  private static final AsciiString[] NAMES = {
      AsciiString.cached("x-forwarded-for"),
      AsciiString.cached("x-forwarded-host"),
      AsciiString.cached("x-forwarded-proto"),
      AsciiString.cached("x-forwarded-port"),
      AsciiString.cached("x-forwarded-prefix"),
      AsciiString.cached("x-real-ip"),
      AsciiString.cached("forwarded"),
  };

  private ForwardingHeaders() {}

  /** Removes every forwarding header from a request that came from a client Meridian does not trust. */
  public static void stripUntrusted(HttpHeaders headers) {
    for (AsciiString name : NAMES) {
      headers.remove(name);
    }
  }
}
