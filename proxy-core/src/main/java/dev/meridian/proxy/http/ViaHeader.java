package dev.meridian.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;

/** Appends Meridian's hop to a message's {@code Via} header (RFC 9110 section 7.6.3). */
final class ViaHeader {
  private ViaHeader() {}

  /** Appends {@code "1.1 pseudonym"} (the version is the one the message arrived with). */
  static void append(HttpHeaders headers, HttpVersion received, String pseudonym) {
    String hop = received.majorVersion() + "." + received.minorVersion() + " " + pseudonym;
    String prior = headers.get(HttpHeaderNames.VIA);
    headers.set(HttpHeaderNames.VIA, prior == null || prior.isBlank() ? hop : prior + ", " + hop);
  }
}
