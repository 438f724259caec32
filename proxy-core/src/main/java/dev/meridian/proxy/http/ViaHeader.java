package dev.meridian.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;

/** Appends Meridian's hop to a message's {@code Via} header (RFC 9110 section 7.6.3). */
public final class ViaHeader {
  /**
   * The version a message that came over HTTP/2 is named by: its hop reads {@code "2 pseudonym"}
   * (a stream's messages are handled as HTTP/1.1 inside the proxy, so their own version says 1.1).
   */
  public static final HttpVersion HTTP_2 = new HttpVersion("HTTP", 2, 0, true);

  private static volatile String lastPseudonym;
  private static volatile String lastHop;

  private ViaHeader() {}

  /** {@code "1.1 pseudonym"}, built once per pseudonym rather than per message. */
  private static String cachedHop(String pseudonym) {
    String hop = lastHop;
    if (hop == null || !pseudonym.equals(lastPseudonym)) {
      hop = "1.1 " + pseudonym;
      lastPseudonym = pseudonym;
      lastHop = hop;
    }
    return hop;
  }

  /**
   * Appends {@code "1.1 pseudonym"}, {@code "1.0 pseudonym"} or {@code "2 pseudonym"}: the version
   * the message arrived with, as RFC 9110 writes it (HTTP/2 has no minor version).
   */
  static void append(HttpHeaders headers, HttpVersion received, String pseudonym) {
    String hop = received.minorVersion() == 1 && received.majorVersion() == 1
        ? cachedHop(pseudonym)
        : received.majorVersion() >= 2 && received.minorVersion() == 0
            ? received.majorVersion() + " " + pseudonym
            : received.majorVersion() + "." + received.minorVersion() + " " + pseudonym;
    String prior = headers.get(HttpHeaderNames.VIA);
    headers.set(HttpHeaderNames.VIA, prior == null || prior.isBlank() ? hop : prior + ", " + hop);
  }
}
