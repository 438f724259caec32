package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Reads an HTTP/2 request's header block into the same {@link RawRequest} an HTTP/1.1 client's head
 * makes, so a request is routed, rewritten and written upstream the same way whichever protocol it
 * came in: the block is written out as an HTTP/1.1 head and read by {@link RequestHeadParser}, with
 * the same rules and limits (the request line's length, the header section's bytes and fields).
 *
 * <p>What HTTP/2 carries differently becomes HTTP/1.1 as RFC 9113 section 8.3 says: {@code :method}
 * and {@code :path} make the request line ({@code :authority} the target of a CONNECT), a Host field
 * is made from {@code :authority} when there is none (a Host that names a different authority is
 * refused), the {@code cookie} fields are joined into one with {@code "; "}, and a body without a
 * {@code content-length} goes upstream chunked. HPACK can carry any bytes: a name that is not a
 * token, or a value, path or authority with CR, LF or NUL, is refused before it is written (it could
 * otherwise make lines of its own), so is one that starts or ends with whitespace (malformed in
 * HTTP/2, though HTTP/1.1 would read it trimmed), and so is a {@code :path} that is not an absolute
 * path or {@code *} (an absolute URI would name another host than {@code :authority}); everything
 * else the parser checks as it does on HTTP/1.1.
 *
 * <p>Not thread-safe: one instance serves the streams of one connection, on its event loop, one
 * header block at a time (each is read whole; nothing is kept from one to the next).
 */
public final class Http2RequestHeads {
  private static final byte[] VERSION_LINE_END = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] COLON_SPACE = {':', ' '};
  private static final byte[] COOKIE_SEPARATOR = {';', ' '};
  private static final byte[] HOST = "host: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] COOKIE = "cookie: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHUNKED = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final short CRLF = ('\r' << 8) | '\n';

  private final RequestHeadParser parser;

  /**
   * Creates the reader of one connection's requests with the listener's HTTP/1.1 limits.
   *
   * @param maxRequestLine longest request line in bytes (method, path and version)
   * @param maxHeaderBytes largest header section in bytes, as HTTP/1.1 lines
   * @param maxHeaderCount most header fields
   */
  public Http2RequestHeads(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount) {
    this.parser = new RequestHeadParser(maxRequestLine, maxHeaderBytes, maxHeaderCount);
  }

  /**
   * The request a header block asks for.
   *
   * @param headers     the request's header block, pseudo-header fields first (the frame codec
   *                    checked that the required ones are there and that no connection-specific
   *                    field is)
   * @param bodyFollows the HEADERS frame did not end the stream
   * @param alloc       where the head is written before it is read (released before this returns)
   * @throws io.netty.handler.codec.DecoderException a {@link MalformedHeadException},
   *     {@link io.netty.handler.codec.http.TooLongHttpLineException},
   *     {@link io.netty.handler.codec.http.TooLongHttpHeaderException} or {@link TooManyHeadersException}
   *     naming the rule the request breaks
   */
  public RawRequest read(Http2Headers headers, boolean bodyFollows, ByteBufAllocator alloc) {
    CharSequence method = headers.method();
    CharSequence authority = headers.authority();
    boolean connect = HttpMethod.CONNECT.asciiName().contentEquals(method);
    CharSequence target = connect ? authority : headers.path();
    if (method == null || target == null) {
      throw new MalformedHeadException("the request has no :method or no :path");
    }
    if (!connect && !isPathOrAsterisk(target)) {
      throw new MalformedHeadException("the :path is not an absolute path or '*'");
    }
    if (headers.scheme() != null && !isScheme(headers.scheme())) {
      // Not written upstream, but a malformed value makes the request malformed all the same.
      throw new MalformedHeadException("the :scheme is not a URI scheme (a letter, then letters, digits, '+', '-', '.')");
    }
    if (headers.contains(Http2Headers.PseudoHeaderName.PROTOCOL.value())) {
      // Extended CONNECT (RFC 8441) is not offered (no SETTINGS_ENABLE_CONNECT_PROTOCOL): malformed.
      throw new MalformedHeadException("a :protocol pseudo-header, though extended CONNECT is not enabled");
    }
    ByteBuf head = alloc.heapBuffer(256);
    try {
      writeName(head, method);
      head.writeByte(' ');
      writeValue(head, target, ":path");
      head.writeBytes(VERSION_LINE_END);
      boolean hasHost = false;
      boolean hasLength = false;
      boolean hasCookie = false;
      for (Map.Entry<CharSequence, CharSequence> field : headers) {
        CharSequence name = field.getKey();
        if (name.length() > 0 && name.charAt(0) == ':') {
          continue;
        }
        if (HttpHeaderNames.COOKIE.contentEqualsIgnoreCase(name)) {
          hasCookie = true;
          continue;
        }
        if (HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)) {
          if (authority != null && !AsciiString.contentEqualsIgnoreCase(authority, field.getValue())) {
            throw new MalformedHeadException("the Host header names another authority than :authority");
          }
          hasHost = true;
        } else if (HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
          hasLength = true;
        }
        writeName(head, name);
        head.writeBytes(COLON_SPACE);
        writeValue(head, field.getValue(), name);
        head.writeShort(CRLF);
      }
      if (!hasHost && authority != null) {
        head.writeBytes(HOST);
        writeValue(head, authority, ":authority");
        head.writeShort(CRLF);
      }
      if (hasCookie) {
        writeCookies(head, headers);
      }
      if (bodyFollows && !hasLength) {
        head.writeBytes(CHUNKED);
      }
      head.writeShort(CRLF);
      RawRequest request = parser.parse(head);
      if (request == null) {
        parser.discardPartial();
        throw new MalformedHeadException("the request's header block does not make a complete head");
      }
      if (bodyFollows) {
        request.bodyFollows();
      }
      return request;
    } finally {
      head.release();
    }
  }

  /**
   * The request's trailers, from the HEADERS frame that ended its body: every field but those
   * {@link TrailerFields} drops, as the body's end, with the rules the head's fields have.
   *
   * @throws MalformedHeadException for a pseudo-header field, a name that is not a token, or a
   *     value with CR, LF or NUL or that starts or ends with whitespace
   */
  public LastHttpContent trailers(Http2Headers trailers) {
    LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, false);
    for (Map.Entry<CharSequence, CharSequence> field : trailers) {
      CharSequence name = field.getKey();
      if (!FieldSyntax.isToken(name)) {
        throw new MalformedHeadException("a trailer's name is not a token (or is a pseudo-header field)");
      }
      checkValue(field.getValue(), "trailer " + name);
      if (!TrailerFields.isDropped(name)) {
        last.trailingHeaders().add(name, field.getValue());
      }
    }
    return last;
  }

  /** Whether a value is a URI scheme's name (RFC 3986 section 3.1): a letter, then letters, digits, '+', '-', '.'. */
  private static boolean isScheme(CharSequence scheme) {
    for (int i = 0; i < scheme.length(); i++) {
      char c = scheme.charAt(i);
      boolean letter = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
      if (!letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'))) {
        return false;
      }
    }
    return scheme.length() > 0;
  }

  /**
   * Whether {@code :path} is what RFC 9113 section 8.3.1 allows: an absolute path (with its query) or
   * {@code *}. An absolute URI there would become an absolute-form HTTP/1.1 target, whose authority
   * overrides Host (RFC 9112 section 3.2.2): the request would be routed, and reach the backend, as a
   * host other than its {@code :authority}.
   */
  private static boolean isPathOrAsterisk(CharSequence path) {
    return path.length() > 0 && (path.charAt(0) == '/' || (path.length() == 1 && path.charAt(0) == '*'));
  }

  /** One Cookie line joining every {@code cookie} field in order (RFC 9113 section 8.2.3). */
  private static void writeCookies(ByteBuf head, Http2Headers headers) {
    head.writeBytes(COOKIE);
    boolean first = true;
    for (CharSequence crumb : headers.getAll(HttpHeaderNames.COOKIE)) {
      if (!first) {
        head.writeBytes(COOKIE_SEPARATOR);
      }
      writeValue(head, crumb, HttpHeaderNames.COOKIE);
      first = false;
    }
    head.writeShort(CRLF);
  }

  /**
   * Writes a field name or the method: a token, or the head is refused (HPACK carries any bytes, and
   * a colon or a line break here would make the HTTP/1.1 head say something else).
   */
  private static void writeName(ByteBuf out, CharSequence name) {
    if (!FieldSyntax.isToken(name)) {
      throw new MalformedHeadException("a field name or the method is not a token");
    }
    writeText(out, name);
  }

  /**
   * Writes a value (or the path or authority): one without CR, LF or NUL, or the head is refused,
   * since those would end the line early and let the rest be read as fields of its own; and one that
   * neither starts nor ends with a space or tab, which makes an HTTP/2 request malformed (RFC 9113
   * section 8.2.1: a proxy must not forward it, not even trimmed as HTTP/1.1 would read it).
   */
  private static void writeValue(ByteBuf out, CharSequence value, CharSequence what) {
    checkValue(value, what);
    writeText(out, value);
  }

  private static void checkValue(CharSequence value, CharSequence what) {
    if (!FieldSyntax.hasNoLineBreak(value)) {
      throw new MalformedHeadException("'" + what + "' has a CR, LF or NUL in its value");
    }
    int last = value.length() - 1;
    if (last >= 0 && (isSpaceOrTab(value.charAt(0)) || isSpaceOrTab(value.charAt(last)))) {
      throw new MalformedHeadException("'" + what + "' has a value that starts or ends with whitespace");
    }
  }

  private static boolean isSpaceOrTab(char c) {
    return c == ' ' || c == '\t';
  }

  private static void writeText(ByteBuf out, CharSequence text) {
    if (text instanceof AsciiString ascii) {
      ByteBufUtil.copy(ascii, out);
    } else {
      out.writeCharSequence(text, StandardCharsets.ISO_8859_1);
    }
  }
}
