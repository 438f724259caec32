package dev.meridian.proxy.http1;

import static dev.meridian.proxy.http1.FieldSyntax.TCHAR;
import static dev.meridian.proxy.http1.FieldSyntax.nameIs;
import static dev.meridian.proxy.http1.FieldSyntax.parseContentLength;
import static dev.meridian.proxy.http1.FieldSyntax.parseVersion;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Reads a request head in place into a {@link RawRequest}, with the rules of {@link HeadParser} and
 * these for requests: the request line is exactly {@code method SP target SP HTTP/d.d}, the method a
 * token and the target free of whitespace and control bytes; one Host at most; never both
 * Content-Length and Transfer-Encoding; a Transfer-Encoding only in HTTP/1.1 and exactly
 * {@code chunked} (other codings are not relayed, as a backend might apply them differently).
 */
final class RequestHeadParser extends HeadParser<RawRequest> {
  /** Room for the fields a proxied request gains (request id, X-Forwarded-*, Forwarded, Via, traceparent). */
  private static final int ADDED_FIELDS = 8;

  private static final HttpMethod[] KNOWN_METHODS = {
    HttpMethod.GET, HttpMethod.POST, HttpMethod.HEAD, HttpMethod.PUT, HttpMethod.DELETE,
    HttpMethod.OPTIONS, HttpMethod.PATCH, HttpMethod.TRACE, HttpMethod.CONNECT,
  };
  private static final byte[][] KNOWN_METHOD_NAMES = new byte[KNOWN_METHODS.length][];

  static {
    for (int i = 0; i < KNOWN_METHODS.length; i++) {
      KNOWN_METHOD_NAMES[i] = KNOWN_METHODS[i].name().getBytes(StandardCharsets.US_ASCII);
    }
  }

  private int methodEnd;
  private int targetStart;
  private int targetEnd;
  private HttpVersion version;
  private int startLineBytes;
  private long contentLength;
  private boolean chunked;

  RequestHeadParser(int maxRequestLine, int maxHeaderBytes, int maxHeaderCount) {
    super("request", true, maxRequestLine, maxHeaderBytes, maxHeaderCount);
  }

  @Override
  void parseStartLine(byte[] in, int from, int lineEnd) {
    int index = from;
    while (index < lineEnd && TCHAR[in[index] & 0xff]) {
      index++;
    }
    if (index == from || index == lineEnd || in[index] != ' ') {
      throw new MalformedHeadException("the request line does not start with a method and one space");
    }
    methodEnd = index;
    int target = ++index;
    while (index < lineEnd) {
      int b = in[index] & 0xff;
      if (b <= ' ' || b == 0x7f) {
        break;
      }
      index++;
    }
    if (index == target || index == lineEnd || in[index] != ' ') {
      throw new MalformedHeadException("the request line's target is empty or not followed by one space");
    }
    targetStart = target;
    targetEnd = index;
    startLineBytes = lineEnd + 2; // the request line starts the head (at 0): its bytes with CR LF
    version = parseVersion(in, index + 1, lineEnd, "the request line");
  }

  @Override
  void checkFraming(byte[] in) {
    contentLength = -1;
    chunked = false;
    if (contentLengthField >= 0 && transferEncodingField >= 0) {
      throw new MalformedHeadException("both Content-Length and Transfer-Encoding");
    }
    if (contentLengthField >= 0) {
      contentLength = parseContentLength(in, valueStart(contentLengthField), valueEnd(in, contentLengthField));
    }
    if (transferEncodingField >= 0) {
      if (version != HttpVersion.HTTP_1_1) {
        throw new MalformedHeadException("Transfer-Encoding in a request older than HTTP/1.1");
      }
      int value = valueStart(transferEncodingField);
      chunked = valueEnd(in, transferEncodingField) - value == 7 && nameIs(in, value, "chunked");
      if (!chunked) {
        throw new UnsupportedTransferCodingException("a Transfer-Encoding other than exactly 'chunked'");
      }
    }
  }

  @Override
  RawRequest complete(byte[] head, int[] fields, int count, int fieldsEnd) {
    HttpMethod method = method(head, methodEnd);
    String uri = new String(head, targetStart, targetEnd - targetStart, StandardCharsets.ISO_8859_1);
    RawHeaders headers = new RawHeaders(head, fields, count, fieldsEnd, ADDED_FIELDS);
    return new RawRequest(method, uri, version, headers, contentLength, chunked, head, startLineBytes);
  }

  private static HttpMethod method(byte[] head, int length) {
    for (int m = 0; m < KNOWN_METHODS.length; m++) {
      byte[] name = KNOWN_METHOD_NAMES[m];
      if (name.length == length && regionIs(head, name, length)) {
        return KNOWN_METHODS[m];
      }
    }
    return HttpMethod.valueOf(new String(head, 0, length, StandardCharsets.US_ASCII));
  }

  private static boolean regionIs(byte[] head, byte[] name, int length) {
    for (int i = 0; i < length; i++) {
      if (head[i] != name[i]) {
        return false;
      }
    }
    return true;
  }
}
