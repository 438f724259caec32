package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * Decodes the requests of one HTTP/1.1 client connection: each head in place into a
 * {@link RawRequest} (see {@link RequestHeadParser} for the rules), then its body as the buffers
 * that arrived, sliced (see {@link Http1MessageDecoder}). Every request ends with a
 * {@link LastHttpContent}.
 *
 * <p>A head that breaks a rule is handed on as a request whose {@link DecoderResult} failed (its
 * cause says which limit or rule), a body that breaks one as a failed {@code LastHttpContent}; after
 * either, the rest of the connection's input is discarded, so nothing of it can reach a backend.
 */
public final class Http1RequestDecoder extends Http1MessageDecoder {
  /**
   * The method of a stand-in for a refused head whose method could not be read (a request line not
   * "method target", an HTTP/2 {@code :method} that is no token): logged as "-".
   */
  public static final HttpMethod UNREADABLE = HttpMethod.valueOf("-");

  /** The longest method a refused head's stand-in takes from it. */
  private static final int MAX_LOGGED_METHOD = 32;
  /** The most bytes of a refused head's target its stand-in takes (the access log's cut). */
  private static final int MAX_LOGGED_TARGET = 2048;

  private final RequestHeadParser parser;
  private final Consumer<HttpMethod> methods;
  private long headStartNanos;

  /**
   * Creates the decoder of one connection.
   *
   * @param maxRequestLine longest request line in bytes
   * @param maxHeaderBytes largest header section (and trailer section) in bytes
   * @param maxHeaderCount most header fields in one head
   * @param methods        told each decoded request's method, in order (for the response encoder)
   */
  public Http1RequestDecoder(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount,
      Consumer<HttpMethod> methods) {
    super(maxHeaderBytes);
    this.parser = new RequestHeadParser(maxRequestLine, maxHeaderBytes, maxHeaderCount);
    this.methods = methods;
  }

  /**
   * Whether bytes of a request head have arrived whose head is not complete yet (empty lines before
   * a request line count: they start the head's time as its first byte would).
   */
  public boolean hasPartialHead() {
    return state() == State.HEAD && !isHoldingNextHead()
        && (parser.inProgress() || internalBuffer().isReadable() || headStartNanos != 0);
  }

  /** When the first byte of the head now being received arrived (System.nanoTime), or 0 when none is. */
  public long partialHeadSinceNanos() {
    return state() == State.HEAD ? headStartNanos : 0;
  }

  @Override
  boolean decodeHead(ByteBuf in, List<Object> out) {
    if (!parser.inProgress()) {
      // RFC 9112 section 2.2: empty lines before a request line are ignored. They count as the
      // head's start, though: else a client sending one now and then would hold the connection open
      // past both the head's deadline (no head begun) and the idle timeout (bytes keep coming).
      while (in.readableBytes() >= 2 && in.getByte(in.readerIndex()) == '\r'
          && in.getByte(in.readerIndex() + 1) == '\n') {
        in.skipBytes(2);
        if (headStartNanos == 0) {
          headStartNanos = System.nanoTime();
        }
      }
      if (!in.isReadable() || (in.readableBytes() == 1 && in.getByte(in.readerIndex()) == '\r')) {
        if (in.isReadable() && headStartNanos == 0) {
          headStartNanos = System.nanoTime();
        }
        return false;
      }
    }
    RawRequest request;
    try {
      request = parser.parse(in);
    } catch (DecoderException e) {
      rejectHead(in, out, e);
      return false;
    }
    if (request == null) {
      // Part of a head: its first bytes came in this read (a head whole in one read needs no time).
      if (headStartNanos == 0) {
        headStartNanos = System.nanoTime();
      }
      return false;
    }
    headStartNanos = 0;
    methods.accept(request.method());
    if (asksToSwitchProtocols(request)) {
      holdNextHead();
    }
    out.add(request);
    startBody(out, request.isChunked(), request.contentLength(), false);
    return true;
  }

  /**
   * Whether the request asks to switch protocols (RFC 9110 section 7.8: an HTTP/1.1 request with
   * Upgrade, named in Connection). What the client sends after it is the new protocol's if the answer
   * is 101 and the next request otherwise, so it is not read until the answer is known.
   */
  private static boolean asksToSwitchProtocols(RawRequest request) {
    return request.headers().contains(HttpHeaderNames.UPGRADE)
        && request.protocolVersion().equals(HttpVersion.HTTP_1_1)
        && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
  }

  private void rejectHead(ByteBuf in, List<Object> out, DecoderException cause) {
    headStartNanos = 0;
    // The refusal is answered as HTTP/1.1, the highest version Meridian conforms to (RFC 9110
    // section 6.2), whatever the broken head claimed; it closes the connection anyway. It carries the
    // method and target the head began with, when it began with a request line's, for the access log
    // (and a HEAD's answer has no body).
    DefaultFullHttpRequest failed = sentRequestLine(in);
    discardInput(in);
    failed.setDecoderResult(DecoderResult.failure(cause));
    methods.accept(failed.method());
    out.add(failed);
  }

  /**
   * A stand-in for a refused head: its method and target as sent (the target cut at
   * {@value #MAX_LOGGED_TARGET} bytes) when its first line begins "token SP target", else method and
   * target {@code -} (as the access log writes a field it cannot tell: no made-up GET of a made-up path). The head's bytes are still in {@code in} from its first on: the parser
   * consumes none until a head is complete.
   */
  private static DefaultFullHttpRequest sentRequestLine(ByteBuf in) {
    int start = in.readerIndex();
    int end = start + Math.min(in.readableBytes(), MAX_LOGGED_METHOD + 1 + MAX_LOGGED_TARGET);
    int space = start;
    while (space < end && space - start <= MAX_LOGGED_METHOD && FieldSyntax.TCHAR[in.getByte(space) & 0xff]) {
      space++;
    }
    int targetEnd = space + 1;
    while (targetEnd < end && (in.getByte(targetEnd) & 0xff) > ' ' && in.getByte(targetEnd) != 0x7f) {
      targetEnd++;
    }
    if (space == start || space - start > MAX_LOGGED_METHOD || space >= end || in.getByte(space) != ' '
        || targetEnd == space + 1) {
      return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, UNREADABLE, "-");
    }
    HttpMethod method = HttpMethod.valueOf(in.toString(start, space - start, StandardCharsets.US_ASCII));
    String target = in.toString(space + 1, targetEnd - space - 1, StandardCharsets.ISO_8859_1);
    return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, target);
  }
}
