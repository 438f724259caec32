package dev.meridian.proxy.http1;

import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The field names a trailer section never passes on (RFC 9110 section 6.5.1: fields that frame,
 * route, authenticate or control a message are only read in its header section): framing
 * (Content-Length, Transfer-Encoding, Trailer), Host, the hop-by-hop names, the credentials, request
 * modifiers and response controls (Expect, Range, the conditionals, Cache-Control, Location, ...), the
 * content's format (Content-Type, Content-Encoding, Content-Range, ...), method overrides, and the
 * fields a proxy sets or a backend trusts about the client (X-Forwarded-*, Forwarded, Via, X-Real-IP,
 * trace context, the request id). A backend that merges trailers into the header section would
 * otherwise take a client's trailer for what Meridian says. Such trailer fields are dropped; the rest
 * (checksums, gRPC's status) go on.
 */
public final class TrailerFields {
  private static final FieldNames NEVER = new FieldNames(List.of(
      AsciiString.cached("content-length"), AsciiString.cached("transfer-encoding"), AsciiString.cached("trailer"),
      AsciiString.cached("host"), AsciiString.cached("connection"), AsciiString.cached("keep-alive"),
      AsciiString.cached("proxy-connection"), AsciiString.cached("te"), AsciiString.cached("upgrade"),
      AsciiString.cached("authorization"), AsciiString.cached("proxy-authorization"),
      AsciiString.cached("proxy-authenticate"), AsciiString.cached("cookie"), AsciiString.cached("set-cookie"),
      AsciiString.cached("x-forwarded-for"), AsciiString.cached("x-forwarded-proto"),
      AsciiString.cached("x-forwarded-host"), AsciiString.cached("forwarded"), AsciiString.cached("via"),
      AsciiString.cached("x-forwarded-port"), AsciiString.cached("x-forwarded-prefix"),
      AsciiString.cached("x-forwarded-server"), AsciiString.cached("client-ip"), AsciiString.cached("x-client-ip"),
      AsciiString.cached("true-client-ip"), AsciiString.cached("x-cluster-client-ip"),
      AsciiString.cached("x-real-ip"), AsciiString.cached("traceparent"), AsciiString.cached("tracestate"),
      AsciiString.cached("x-request-id"),
      // Request modifiers and response controls, read before the content (RFC 9110 section 6.5.1).
      AsciiString.cached("expect"), AsciiString.cached("max-forwards"), AsciiString.cached("cache-control"),
      AsciiString.cached("pragma"), AsciiString.cached("range"), AsciiString.cached("if-match"),
      AsciiString.cached("if-none-match"), AsciiString.cached("if-modified-since"),
      AsciiString.cached("if-unmodified-since"), AsciiString.cached("if-range"), AsciiString.cached("age"),
      AsciiString.cached("expires"), AsciiString.cached("date"), AsciiString.cached("location"),
      AsciiString.cached("retry-after"), AsciiString.cached("vary"), AsciiString.cached("www-authenticate"),
      AsciiString.cached("x-http-method-override"), AsciiString.cached("x-http-method"),
      AsciiString.cached("x-method-override"),
      // The content's format, which the body was read by.
      AsciiString.cached("content-type"), AsciiString.cached("content-encoding"),
      AsciiString.cached("content-range"), AsciiString.cached("content-language"),
      AsciiString.cached("content-location")));

  private TrailerFields() {}

  /** Whether a trailer field named {@code b[start, end)} is dropped. */
  static boolean isDropped(byte[] b, int start, int end) {
    return NEVER.contains(b, start, end);
  }

  /**
   * Removes from a trailer section every field it never passes on, as a backend's HTTP/1.1 trailers
   * are filtered when read (for trailers that come as an HTTP/2 HEADERS frame).
   */
  public static void dropFrom(io.netty.handler.codec.http.HttpHeaders trailers) {
    if (trailers.isEmpty()) {
      return;
    }
    List<String> dropped = trailers.names().stream().filter(TrailerFields::isDropped).toList();
    dropped.forEach(trailers::remove);
  }

  /** Whether a trailer field of this name is dropped. */
  static boolean isDropped(CharSequence name) {
    byte[] bytes = name.toString().getBytes(StandardCharsets.ISO_8859_1);
    return NEVER.contains(bytes, 0, bytes.length);
  }
}
