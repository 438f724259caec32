package dev.meridian.proxy.http1;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP/1.1 field grammar (RFC 9110 section 5, RFC 9112) over a head's bytes, as {@link HeadParser}
 * and its subclasses apply it: tokens, field names and values, optional whitespace, the version, a
 * Content-Length, chunk extensions and trailer lines, and the check on fields the proxy adds itself.
 * Every rule throws a {@link MalformedHeadException} naming what it refused; nothing here keeps state.
 */
final class FieldSyntax {
  /** Which bytes are tchar, the characters of a token. */
  static final boolean[] TCHAR = new boolean[256];

  static {
    for (int c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (int c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  /** Reads {@code HTTP/d.d} exactly, from {@code from} to {@code end}. */
  static HttpVersion parseVersion(byte[] in, int from, int end, String where) {
    if (end - from != 8 || in[from] != 'H' || in[from + 1] != 'T'
        || in[from + 2] != 'T' || in[from + 3] != 'P' || in[from + 4] != '/'
        || !isDigit(in[from + 5]) || in[from + 6] != '.' || !isDigit(in[from + 7])) {
      throw new MalformedHeadException(where + " does not have an HTTP/<digit>.<digit> version");
    }
    int major = in[from + 5] - '0';
    int minor = in[from + 7] - '0';
    if (major == 1 && minor == 1) {
      return HttpVersion.HTTP_1_1;
    }
    if (major == 1 && minor == 0) {
      return HttpVersion.HTTP_1_0;
    }
    return new HttpVersion("HTTP", major, minor, true);
  }

  static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  /** Checks the field name at the start of a line and returns the index of its colon. */
  static int fieldNameEnd(byte[] in, int from, int lineEnd) {
    byte first = in[from];
    if (first == ' ' || first == '\t') {
      throw new MalformedHeadException("obs-fold (a header line starting with whitespace) is not accepted");
    }
    int index = from;
    while (index < lineEnd && TCHAR[in[index] & 0xff]) {
      index++;
    }
    if (index == lineEnd) {
      throw new MalformedHeadException("a header line without a colon");
    }
    byte stop = in[index];
    if (stop != ':') {
      throw new MalformedHeadException(isOws(stop) ? "whitespace between a header name and its colon"
          : "a header name with a character that is not allowed");
    }
    if (index == from) {
      throw new MalformedHeadException("a header line with an empty name");
    }
    return index;
  }

  /** Refuses a value holding a control byte: below 0x20 but HTAB, or 0x7F. */
  static void checkValue(byte[] in, int from, int end) {
    if (WordScan.hasControlByte(in, from, end)) {
      throw new MalformedHeadException("a header value with a control character");
    }
  }

  static boolean isOws(byte b) {
    return b == ' ' || b == '\t';
  }

  /** Whether the bytes at {@code from} spell the lower-case name, ignoring case. */
  static boolean nameIs(byte[] in, int from, String lowerName) {
    for (int i = 0; i < lowerName.length(); i++) {
      byte b = in[from + i];
      if ((b >= 'A' && b <= 'Z' ? b + 32 : b) != lowerName.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The Content-Length value between the indexes: 1-18 digits, else the head is malformed. */
  static long parseContentLength(byte[] in, int from, int end) {
    if (from == end || end - from > 18) {
      throw new MalformedHeadException("Content-Length is not a number of bytes");
    }
    long length = 0;
    for (int i = from; i < end; i++) {
      byte b = in[i];
      if (!isDigit(b)) {
        throw new MalformedHeadException("Content-Length is not a number of bytes");
      }
      length = length * 10 + (b - '0');
    }
    return length;
  }

  /**
   * Whether the bytes after a chunk size are well-formed extensions (RFC 9112 section 7.1.1):
   * {@code *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )}. Nothing else may follow
   * a chunk size: a backend that reads a stray byte there differently is a smuggling vector.
   */
  static boolean isChunkExtensions(byte[] in, int from, int end) {
    int index = from;
    while (index < end) {
      // Whitespace only before a ';' (BWS): none may end the line.
      index = skipOws(in, index, end);
      if (index == end || in[index] != ';') {
        return false;
      }
      index = tokenEnd(in, skipOws(in, index + 1, end), end);
      if (index < 0) {
        return false;
      }
      int equals = skipOws(in, index, end);
      if (equals < end && in[equals] == '=') {
        int value = skipOws(in, equals + 1, end);
        index = value < end && in[value] == '"' ? quotedStringEnd(in, value, end) : tokenEnd(in, value, end);
        if (index < 0) {
          return false;
        }
      }
    }
    return true;
  }

  /** Where the text between the indexes ends once trailing whitespace (SP, HTAB) is left out. */
  static int trimEnd(byte[] in, int start, int end) {
    while (end > start && isOws(in[end - 1])) {
      end--;
    }
    return end;
  }

  static int skipOws(byte[] in, int index, int end) {
    while (index < end && isOws(in[index])) {
      index++;
    }
    return index;
  }

  /** The end of a non-empty token starting at the index, or -1. */
  private static int tokenEnd(byte[] in, int index, int end) {
    int start = index;
    while (index < end && TCHAR[in[index] & 0xff]) {
      index++;
    }
    return index == start ? -1 : index;
  }

  /** The index after a quoted-string starting at the opening quote, or -1 when it is malformed. */
  private static int quotedStringEnd(byte[] in, int quote, int end) {
    int index = quote + 1;
    while (index < end) {
      int b = in[index] & 0xff;
      if (b == '"') {
        return index + 1;
      }
      if (b == '\\') {
        index++;
        if (index == end) {
          return -1;
        }
        b = in[index] & 0xff;
      }
      if ((b < ' ' && b != '\t') || b == 0x7f) {
        return -1;
      }
      index++;
    }
    return -1;
  }

  /**
   * Reads one trailer field line (a chunked body's trailer section) into the headers, with the
   * rules of a head's field line; the fields {@link TrailerFields} names are dropped.
   */
  static void parseTrailer(byte[] in, int from, int lineEnd, HttpHeaders trailers) {
    int colon = fieldNameEnd(in, from, lineEnd);
    int valueStart = skipOws(in, colon + 1, lineEnd);
    int valueEnd = trimEnd(in, valueStart, lineEnd);
    checkValue(in, valueStart, valueEnd);
    int length = colon - from;
    if (TrailerFields.isDropped(in, from, colon)) {
      return;
    }
    trailers.add(new String(in, from, length, StandardCharsets.US_ASCII),
        new String(in, valueStart, valueEnd - valueStart, StandardCharsets.ISO_8859_1));
  }

  /**
   * Refuses a field the proxy adds to a head when its name is not a token or its value holds CR, LF
   * or NUL (which would let a value end the line and start another).
   */
  static void checkAddedField(CharSequence name, CharSequence value) {
    if (name.length() == 0) {
      throw new IllegalArgumentException("empty header name");
    }
    if (!isToken(name)) {
      throw new IllegalArgumentException("header name '" + name + "' is not a token");
    }
    if (!hasNoLineBreak(value)) {
      throw new IllegalArgumentException("header '" + name + "' value with CR, LF, NUL or a character past Latin-1");
    }
  }

  /**
   * Whether the text is a token (a field name, a method). Typed loops: a loop over
   * {@code CharSequence.charAt} goes through an interface call per character.
   */
  static boolean isToken(CharSequence text) {
    return text instanceof AsciiString ascii ? isToken(ascii) : isToken(text.toString());
  }

  /**
   * Whether the text holds no CR, LF or NUL, which would let it end a line and start another, and (a
   * String) no character past Latin-1, which would be written as its low byte.
   */
  static boolean hasNoLineBreak(CharSequence text) {
    return text instanceof String string ? hasNoLineBreak(string)
        : text instanceof AsciiString ascii ? hasNoLineBreak(ascii)
        : text instanceof HexDigits || hasNoLineBreak(text.toString());
  }

  private static boolean isToken(AsciiString name) {
    byte[] bytes = name.array();
    int end = name.arrayOffset() + name.length();
    for (int i = name.arrayOffset(); i < end; i++) {
      if (!TCHAR[bytes[i] & 0xff]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isToken(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c > 0xff || !TCHAR[c]) {
        return false;
      }
    }
    return true;
  }

  private static boolean hasNoLineBreak(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\r' || c == '\n' || c == 0 || c > 0xff) {
        return false; // (a character past Latin-1 would go out as its low byte: U+010A as LF)
      }
    }
    return true;
  }

  private static boolean hasNoLineBreak(AsciiString value) {
    byte[] bytes = value.array();
    int end = value.arrayOffset() + value.length();
    for (int i = value.arrayOffset(); i < end; i++) {
      byte b = bytes[i];
      if (b == '\r' || b == '\n' || b == 0) {
        return false;
      }
    }
    return true;
  }

  private FieldSyntax() {}
}
