package dev.meridian.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * Builds the responses Meridian writes itself (404 no route, 502, 504, 4xx for bad requests): a short
 * plain-text body that says what happened and what to do (for a 5xx without naming the backends:
 * see {@link #publicReason}). The body is on the heap, not in the
 * direct memory the connections read into: a 502 must still be made when a flood of slow clients
 * has filled that (the write may then fail, and the client is closed instead; see
 * {@code ExchangeCompletion}).
 */
public final class LocalResponses {
  private static final AsciiString X_CONTENT_TYPE_OPTIONS = AsciiString.cached("x-content-type-options");
  private static final AsciiString NOSNIFF = AsciiString.cached("nosniff");
  private LocalResponses() {}

  /** Whether the explanation of this status is about the backends (502, 503, 504): not for clients. */
  public static boolean namesBackends(HttpResponseStatus status) {
    int code = status.code();
    return code == 502 || code == 503 || code == 504;
  }

  /**
   * What a client is told of a failure of the backends (see {@link #namesBackends}): the kind of
   * failure, not which group, backend or region failed, which are the operator's to see (in the log,
   * or in the body with {@code debug-headers}).
   */
  public static String publicReason(HttpResponseStatus status) {
    return switch (status.code()) {
      case 502 -> "no backend gave an answer; try again later";
      case 503 -> "no backend can take the request now; try again later";
      case 504 -> "the backend did not answer in time";
      default -> status.reasonPhrase();
    };
  }

  /**
   * Creates a complete response.
   *
   * @param status          the status
   * @param message         one line of explanation, without the trailing newline
   * @param version         the client's HTTP version
   * @param keepAlive       whether the connection stays open after it
   * @param requestIdHeader the request id header's name
   * @param requestId       the request id, or null when the request was never parsed
   */
  public static FullHttpResponse create(HttpResponseStatus status, String message,
      HttpVersion version, boolean keepAlive, AsciiString requestIdHeader, CharSequence requestId) {
    String text = status.code() + " " + status.reasonPhrase() + ": " + message + "\n";
    ByteBuf body = Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8));
    FullHttpResponse response = new DefaultFullHttpResponse(version, status, body);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8")
        .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
        .set(X_CONTENT_TYPE_OPTIONS, NOSNIFF)
        .set(HttpHeaderNames.DATE, HttpDate.now());
    if (requestId != null) {
      response.headers().set(requestIdHeader, requestId);
    }
    HttpUtil.setKeepAlive(response, keepAlive);
    if (!keepAlive && version.equals(HttpVersion.HTTP_1_0)) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    return response;
  }
}
