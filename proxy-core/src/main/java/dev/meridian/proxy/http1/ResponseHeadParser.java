package dev.meridian.proxy.http1;

import static dev.meridian.proxy.http1.FieldSyntax.checkValue;
import static dev.meridian.proxy.http1.FieldSyntax.isDigit;
import static dev.meridian.proxy.http1.FieldSyntax.nameIs;
import static dev.meridian.proxy.http1.FieldSyntax.parseContentLength;
import static dev.meridian.proxy.http1.FieldSyntax.parseVersion;
import static dev.meridian.proxy.http1.FieldSyntax.skipOws;
import static dev.meridian.proxy.http1.FieldSyntax.trimEnd;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Reads a backend's response head in place into a {@link RawResponse}, with the rules of
 * {@link HeadParser} and this status line: {@code HTTP/d.d SP 3DIGIT [SP reason]}, the reason free of
 * control bytes but HTAB; a Transfer-Encoding only in HTTP/1.1, never with a Content-Length, and
 * exactly {@code chunked}. Framing is the decoder's business (it
 * depends on the request's method).
 */
final class ResponseHeadParser extends HeadParser<RawResponse> {
  /** Room for the fields a relayed response gains (Via, a request id, a sticky cookie...). */
  private static final int ADDED_FIELDS = 4;

  private HttpVersion version;
  private HttpResponseStatus status;
  private long contentLength;

  ResponseHeadParser(int maxStatusLine, int maxHeaderBytes, int maxHeaderCount) {
    super("response", false, maxStatusLine, maxHeaderBytes, maxHeaderCount);
  }

  @Override
  void parseStartLine(byte[] in, int from, int lineEnd) {
    if (lineEnd - from < 12 || in[from + 8] != ' ') {
      throw new MalformedHeadException("the status line is not HTTP/<version> <3-digit status>");
    }
    version = parseVersion(in, from, from + 8, "the status line");
    if (version.majorVersion() != 1) {
      // An HTTP/1 connection's answer says HTTP/1.x; "HTTP/2.0" there is a broken backend (and would
      // make Via claim an HTTP/2 hop).
      throw new MalformedHeadException("the status line's version is not HTTP/1.x");
    }
    int code = 0;
    for (int i = from + 9; i < from + 12; i++) {
      byte b = in[i];
      if (!isDigit(b)) {
        throw new MalformedHeadException("the status line's status is not three digits");
      }
      code = code * 10 + (b - '0');
    }
    if (code < 100 || code > 599) {
      // RFC 9110 section 15: 100 to 599 (as an HTTP/2 backend's :status is held to).
      throw new MalformedHeadException(code < 100 ? "a status below 100" : "a status above 599");
    }
    int reason = from + 12;
    if (reason < lineEnd && in[reason] != ' ') {
      throw new MalformedHeadException("the status line's status is not followed by a space");
    }
    reason = skipOws(in, Math.min(reason + 1, lineEnd), lineEnd);
    int reasonEnd = trimEnd(in, reason, lineEnd);
    checkValue(in, reason, reasonEnd);
    status = status(in, code, reason, reasonEnd);
  }

  /** The shared status object when the reason is the standard one (the usual case), else a new one. */
  private static HttpResponseStatus status(byte[] in, int code, int from, int end) {
    HttpResponseStatus standard = HttpResponseStatus.valueOf(code);
    String phrase = standard.reasonPhrase();
    if (phrase.length() == end - from) {
      boolean same = true;
      for (int i = 0; i < phrase.length() && same; i++) {
        same = in[from + i] == phrase.charAt(i);
      }
      if (same) {
        return standard;
      }
    }
    return new HttpResponseStatus(code, new String(in, from, end - from, StandardCharsets.ISO_8859_1));
  }

  @Override
  void checkFraming(byte[] in) {
    if (transferEncodingField >= 0 && contentLengthField >= 0) {
      // RFC 9112 section 6.3 lets the coding win, but a peer that trusts the length instead reads a
      // different body: handled as the error it is.
      throw new MalformedHeadException("both Content-Length and Transfer-Encoding");
    }
    if (transferEncodingField >= 0 && version != HttpVersion.HTTP_1_1) {
      // RFC 9112 section 6.1: such framing is faulty; it is not guessed at.
      throw new MalformedHeadException("Transfer-Encoding in a response older than HTTP/1.1");
    }
    if (transferEncodingField >= 0 && !isExactlyChunked(in, valueStart(transferEncodingField),
        valueEnd(in, transferEncodingField))) {
      // Another coding (gzip, say) would have to reach the client as it came, with the body's end
      // at the backend's close; passed on re-chunked without it, the client would take the coded
      // bytes for the content. Refused as nginx and HAProxy refuse it.
      throw new MalformedHeadException("a Transfer-Encoding other than chunked");
    }
    contentLength = contentLengthField < 0 ? -1
        : parseContentLength(in, valueStart(contentLengthField), valueEnd(in, contentLengthField));
  }

  @Override
  RawResponse complete(byte[] head, int[] fields, int count, int fieldsEnd) {
    RawHeaders headers = new RawHeaders(head, fields, count, fieldsEnd, ADDED_FIELDS);
    // checkFraming let a Transfer-Encoding through only as exactly chunked.
    return new RawResponse(version, status, headers, contentLength, transferEncodingField >= 0);
  }

  /** Whether a Transfer-Encoding value is {@code chunked} alone (any case, surrounding whitespace trimmed). */
  private static boolean isExactlyChunked(byte[] in, int from, int end) {
    int start = skipOws(in, from, end);
    int stop = trimEnd(in, start, end);
    return stop - start == 7 && nameIs(in, start, "chunked");
  }
}
