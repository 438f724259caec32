package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Decodes a backend's responses on one upstream connection: each head in place into a
 * {@link RawResponse} (see {@link ResponseHeadParser}), then its body as the buffers that arrived,
 * framed as RFC 9112 section 6.3 says: none for a HEAD request's response, a 1xx, 204 or 304; chunked
 * with Transfer-Encoding: chunked; up to the Content-Length; otherwise until the backend closes. (A
 * head with both a Transfer-Encoding and a Content-Length, or a coding other than chunked, is
 * refused.) After a 101 the bytes that follow are
 * handed on as they are. A Content-Length body of up to {@value #MAX_BODY_PART} bytes that arrived
 * whole with its head is handed on with it as one {@link WholeResponse}.
 *
 * <p>A head that breaks a rule is handed on as a response whose {@link DecoderResult} failed; a body
 * that does, as a failed {@link LastHttpContent}. The rest of the input is then discarded. So is a
 * byte that arrives while no request awaits a response (after a response's end, or on an idle
 * connection): what a backend sends unasked must never be read as the start of the next request's
 * response, not even as a partial line kept for later.
 */
public final class Http1ResponseDecoder extends Http1MessageDecoder {
  private final ResponseHeadParser parser;
  private final Supplier<HttpMethod> requestMethods;
  private final BooleanSupplier awaitingResponse;

  /**
   * Creates a decoder that takes every response as awaited (for a decoder fed on its own).
   *
   * @param maxStatusLine  longest status line in bytes
   * @param maxHeaderBytes largest header section (and trailer section) in bytes
   * @param maxHeaderCount most header fields in one head
   * @param requestMethods gives the method of the request each final response answers, in order
   */
  public Http1ResponseDecoder(int maxStatusLine, int maxHeaderBytes, int maxHeaderCount,
      Supplier<HttpMethod> requestMethods) {
    this(maxStatusLine, maxHeaderBytes, maxHeaderCount, requestMethods, () -> true);
  }

  /**
   * Creates the decoder of one upstream connection.
   *
   * @param maxStatusLine    longest status line in bytes
   * @param maxHeaderBytes   largest header section (and trailer section) in bytes
   * @param maxHeaderCount   most header fields in one head
   * @param requestMethods   gives the method of the request each final response answers, in order
   * @param awaitingResponse whether a request was sent whose final response has not begun
   */
  public Http1ResponseDecoder(int maxStatusLine, int maxHeaderBytes, int maxHeaderCount,
      Supplier<HttpMethod> requestMethods, BooleanSupplier awaitingResponse) {
    super(maxHeaderBytes);
    this.parser = new ResponseHeadParser(maxStatusLine, maxHeaderBytes, maxHeaderCount);
    this.requestMethods = requestMethods;
    this.awaitingResponse = awaitingResponse;
  }

  @Override
  boolean decodeHead(ByteBuf in, List<Object> out) {
    if (!parser.inProgress() && !awaitingResponse.getAsBoolean()) {
      return refuse(in, out, new MalformedHeadException("bytes from the backend while no request awaits a response"));
    }
    RawResponse response;
    try {
      response = parser.parse(in);
    } catch (DecoderException e) {
      return refuse(in, out, e);
    }
    if (response == null) {
      return false;
    }
    int code = response.status().code();
    HttpMethod method = code < 200 ? null : requestMethods.get();
    boolean bodiless = code < 200 || code == 204 || code == 304 || HttpMethod.HEAD.equals(method);
    long length = response.contentLength();
    if (!bodiless && !response.isChunked() && length > 0 && length <= MAX_BODY_PART
        && in.readableBytes() >= length) {
      // The whole body came with the head: one message, relayed with one write.
      out.add(new WholeResponse(response, in.readRetainedSlice((int) length)));
      return true;
    }
    out.add(response);
    if (bodiless && response.isChunked()) {
      // No body follows whatever the head says; a coding named for it must not reach the client.
      response.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
    }
    if (code < 200) {
      // An interim response (or a 101) has no body; a 101 ends HTTP/1.1 on this connection.
      out.add(LastHttpContent.EMPTY_LAST_CONTENT);
      if (code == 101) {
        switchToRaw();
        return false;
      }
      return true;
    }
    if (bodiless) {
      out.add(LastHttpContent.EMPTY_LAST_CONTENT);
      return true;
    }
    startBody(out, response.isChunked(), response.contentLength(),
        !response.isChunked() && response.contentLength() < 0);
    return true;
  }

  /** Discards the rest of the input and hands on a failed response (502) saying why. */
  private boolean refuse(ByteBuf in, List<Object> out, DecoderException cause) {
    discardInput(in);
    DefaultFullHttpResponse failed = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY);
    failed.setDecoderResult(DecoderResult.failure(cause));
    out.add(failed);
    return false;
  }
}
