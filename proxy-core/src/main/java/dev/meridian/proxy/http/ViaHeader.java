package dev.meridian.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;

/** Appends Meridian's hop to a message's {@code Via} header (RFC 9110 section 7.6.3). */
final class ViaHeader {
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

  /** Appends {@code "1.1 pseudonym"} (the version is the one the message arrived with). */
  static void append(HttpHeaders headers, HttpVersion received, String pseudonym) {
    String hop = received.minorVersion() == 1 && received.majorVersion() == 1
        ? cachedHop(pseudonym)
        : received.majorVersion() + "." + received.minorVersion() + " " + pseudonym;
    String prior = headers.get(HttpHeaderNames.VIA);
    headers.set(HttpHeaderNames.VIA, prior == null || prior.isBlank() ? hop : prior + ", " + hop);
  }
}
