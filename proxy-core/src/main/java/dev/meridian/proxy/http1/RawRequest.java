package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * A client's HTTP/1.1 request head kept as the bytes that arrived (see {@link RawMessage}): the request
 * line's parts and the fields read in place. It is an {@link HttpRequest}, so the proxy routes and
 * rewrites it like any, and {@link UpstreamHttpCodec} writes its kept field lines as they came.
 */
public final class RawRequest extends RawMessage implements HttpRequest {
  private static final short CRLF = ('\r' << 8) | '\n';
  private final long contentLength;
  private final boolean chunked;
  /** The head's bytes; the request line, with its CR LF, is the first {@code lineBytes} of them. */
  private final byte[] head;
  private final int lineBytes;
  private HttpMethod method;
  private String uri;
  /** Method, target or version was changed since the head arrived. */
  private boolean lineEdited;
  /** An HTTP/2 request whose HEADERS frame did not end its stream: a body (maybe empty) follows. */
  private boolean bodyFollows;

  RawRequest(HttpMethod method, String uri, HttpVersion version, RawHeaders headers,
      long contentLength, boolean chunked, byte[] head, int lineBytes) {
    super(version, headers);
    this.method = method;
    this.uri = uri;
    this.contentLength = contentLength;
    this.chunked = chunked;
    this.head = head;
    this.lineBytes = lineBytes;
  }

  /**
   * Writes the request line, with its CR LF: as it arrived when method, target and version are as
   * they came, else from them. Either way a target's bytes above 0x7f go on as the client sent them:
   * the target was read one char per byte (ISO-8859-1), and a changed one (a normalized path) is
   * written back so, where an encoder writing it as UTF-8 would turn each such byte into two, and
   * the backend would read another path than the one routed.
   */
  void writeLine(ByteBuf out) {
    if (!lineEdited) {
      out.writeBytes(head, 0, lineBytes);
      return;
    }
    ByteBufUtil.copy(method.asciiName(), out);
    out.writeByte(' ');
    out.writeCharSequence(uri, StandardCharsets.ISO_8859_1);
    out.writeByte(' ');
    out.writeCharSequence(protocolVersion().text(), StandardCharsets.US_ASCII);
    out.writeShort(CRLF);
  }

  /** The body's length from Content-Length, or -1 when there is none. */
  public long contentLength() {
    return contentLength;
  }

  /** Whether the body is chunked. */
  public boolean isChunked() {
    return chunked;
  }

  /**
   * Whether the request has no body, so that its empty end is handed on right after the head, from
   * the same read (a refused head has no end; an HTTP/2 request whose HEADERS did not end the stream
   * waits for a DATA frame, even with {@code content-length: 0}).
   */
  public boolean endsWithHead() {
    return !chunked && !bodyFollows && contentLength <= 0 && decoderResult().isSuccess();
  }

  /** Notes that a body follows the head (an HTTP/2 HEADERS frame that did not end its stream). */
  void bodyFollows() {
    bodyFollows = true;
  }

  @Override
  public HttpMethod method() {
    return method;
  }

  @Override
  @Deprecated
  public HttpMethod getMethod() {
    return method;
  }

  @Override
  public HttpRequest setMethod(HttpMethod method) {
    lineEdited |= !method.equals(this.method);
    this.method = method;
    return this;
  }

  @Override
  public String uri() {
    return uri;
  }

  @Override
  @Deprecated
  public String getUri() {
    return uri;
  }

  @Override
  public HttpRequest setUri(String uri) {
    lineEdited |= !uri.equals(this.uri);
    this.uri = uri;
    return this;
  }

  @Override
  public HttpRequest setProtocolVersion(HttpVersion version) {
    lineEdited |= !version.equals(protocolVersion());
    super.setProtocolVersion(version);
    return this;
  }

  @Override
  public String toString() {
    return method + " " + uri + " " + protocolVersion();
  }
}
