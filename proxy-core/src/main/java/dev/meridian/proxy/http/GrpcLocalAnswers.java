package dev.meridian.proxy.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * Meridian's own answers (a 502, 503, 504, 429, ...) to a gRPC call, in gRPC's words: a
 * Trailers-Only response ({@code :status 200}, {@code content-type: application/grpc},
 * {@code grpc-status}, {@code grpc-message}), as Envoy answers, with the status gRPC's HTTP mapping
 * gives the HTTP status. A plain-text 503 reached gRPC clients as UNAVAILABLE with a content-type
 * error in their logs, a 408 as UNKNOWN, and the reason was lost.
 */
public final class GrpcLocalAnswers {
  private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
  private static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private GrpcLocalAnswers() {}

  /** Whether the request is a gRPC call: Content-Type application/grpc, or application/grpc+..., ;... */
  public static boolean isGrpc(HttpHeaders request) {
    String type = request.get(HttpHeaderNames.CONTENT_TYPE);
    return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16)
        && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
  }

  /**
   * The gRPC status for an HTTP status Meridian answers with (gRPC's "HTTP to gRPC status code
   * mapping", with 408 DEADLINE_EXCEEDED and 413 RESOURCE_EXHAUSTED for what they mean here).
   */
  public static int grpcStatus(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> 13; // INTERNAL
      case 401 -> 16; // UNAUTHENTICATED
      case 403 -> 7; // PERMISSION_DENIED
      case 404, 405 -> 12; // UNIMPLEMENTED
      case 408 -> 4; // DEADLINE_EXCEEDED
      case 413, 431 -> 8; // RESOURCE_EXHAUSTED
      case 429, 502, 503, 504 -> 14; // UNAVAILABLE
      default -> 2; // UNKNOWN
    };
  }

  /**
   * The Trailers-Only answer standing for {@code local} (whose request id field it keeps), for a
   * call answered {@code status} because of {@code message}.
   */
  public static FullHttpResponse trailersOnly(FullHttpResponse local, HttpResponseStatus status, String message,
      CharSequence requestIdHeader) {
    FullHttpResponse answer = new DefaultFullHttpResponse(local.protocolVersion(), HttpResponseStatus.OK,
        Unpooled.EMPTY_BUFFER);
    answer.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
        .set(GRPC_STATUS, grpcStatus(status.code()))
        .set(GRPC_MESSAGE, percentEncoded(status.code() + " " + status.reasonPhrase() + ": " + message));
    String requestId = local.headers().get(requestIdHeader);
    if (requestId != null) {
      answer.headers().set(requestIdHeader, requestId);
    }
    return answer;
  }

  /** gRPC's percent-encoding of grpc-message: UTF-8, every byte outside 0x20-0x7E and '%' as %XX. */
  static String percentEncoded(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c >= 0x20 && c <= 0x7e && c != '%') {
        out.append((char) c);
      } else {
        out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return out.toString();
  }
}
