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
 * control bytes but HTAB; a Transfer-Encoding only in HTTP/1.1, never with a Content-Length, and with
 * chunked at most once and only last. Framing is the decoder's business (it
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
    int code = 0;
    for (int i = from + 9; i < from + 12; i++) {
      byte b = in[i];
      if (!isDigit(b)) {
        throw new MalformedHeadException("the status line's status is not three digits");
      }
      code = code * 10 + (b - '0');
    }
    if (code < 100) {
      throw new MalformedHeadException("a status below 100");
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
    if (transferEncodingField >= 0 && chunkedElements(in, valueStart(transferEncodingField),
        valueEnd(in, transferEncodingField)) > (endsWithChunked(in, valueStart(transferEncodingField),
            valueEnd(in, transferEncodingField)) ? 1 : 0)) {
      // Chunked is applied once and last (RFC 9112 section 7), or the framing is faulty.
      throw new MalformedHeadException("chunked that is not the last transfer coding, or more than once");
    }
    contentLength = contentLengthField < 0 ? -1
        : parseContentLength(in, valueStart(contentLengthField), valueEnd(in, contentLengthField));
  }

  @Override
  RawResponse complete(byte[] head, int[] fields, int count, int fieldsEnd) {
    RawHeaders headers = new RawHeaders(head, fields, count, fieldsEnd, ADDED_FIELDS);
    boolean chunked = false;
    boolean transferCoded = transferEncodingField >= 0;
    if (transferCoded) {
      chunked = endsWithChunked(head, valueStart(transferEncodingField), valueEnd(head, transferEncodingField));
    }
    return new RawResponse(version, status, headers, contentLength, transferCoded, chunked);
  }

  /** How many elements of a Transfer-Encoding list are {@code chunked}. */
  private static int chunkedElements(byte[] in, int from, int end) {
    int count = 0;
    int start = from;
    for (int i = from; i <= end; i++) {
      if (i == end || in[i] == ',') {
        int first = skipOws(in, start, i);
        int last = trimEnd(in, first, i);
        if (last - first == 7 && nameIs(in, first, "chunked")) {
          count++;
        }
        start = i + 1;
      }
    }
    return count;
  }

  /**
   * Whether the last coding of a Transfer-Encoding list is {@code chunked}; empty list elements (as in
   * {@code chunked,}) are ignored, as RFC 9110 section 5.6.1 asks of recipients.
   */
  private static boolean endsWithChunked(byte[] in, int from, int end) {
    int stop = end;
    while (true) {
      stop = trimEnd(in, from, stop);
      if (stop == from || in[stop - 1] != ',') {
        break;
      }
      stop--;
    }
    int start = stop;
    while (start > from && in[start - 1] != ',') {
      start--;
    }
    start = skipOws(in, start, stop);
    return stop - start == 7 && nameIs(in, start, "chunked");
  }
}
