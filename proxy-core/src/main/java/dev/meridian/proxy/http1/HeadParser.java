package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads an HTTP/1.1 head (RFC 9112) in place, as its bytes arrive: the start line (a request line or
 * a status line, see the subclasses) and the field lines, recorded as offsets into the arriving
 * buffer with no object per field. Strict where a proxy must be, because a peer that reads a head
 * differently than the proxy is how messages get smuggled:
 * <ul>
 *   <li>every line ends in CR LF; a bare LF, a bare CR or any other control byte is refused;
 *   <li>field names are tokens directly followed by the colon (no whitespace before it), no line
 *       starts with whitespace (obs-fold), values hold no control byte but HTAB;
 *   <li>one Content-Length at most (digits only), one Transfer-Encoding at most (and, for
 *       requests, one Host);
 *   <li>limits: the start line's length ({@link TooLongHttpLineException}), the header section's
 *       bytes ({@link TooLongHttpHeaderException}) and the number of fields
 *       ({@link TooManyHeadersException}).
 * </ul>
 * Everything else is a {@link MalformedHeadException} naming the rule. A head is scanned once: each
 * complete line is read when it arrives, and a partial line waits for the next read.
 *
 * <p>One parser serves one connection and is not thread-safe.
 *
 * @param <H> the head it makes
 */
abstract class HeadParser<H> {
  private static final byte CR = '\r';
  private static final byte LF = '\n';
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

  private final String what;
  private final boolean singleHost;
  private final int maxStartLine;
  private final int maxHeaderBytes;
  private final int maxHeaderCount;

  /** Bytes of the head-reading buffer kept between heads (a larger one made for a big head goes). */
  private static final int KEPT_LINE_BYTES = 1024;

  // The head being received: its complete lines so far, copied, and offsets from its first byte.
  private byte[] lines = new byte[256];
  private int scanned;
  private int startLineEnd = -1;
  private int[] fields;
  private int fieldCount;
  /** Fields in the last head on this connection: the next head's array is made that size. */
  private int expectedFields = 8;
  /** Index of the Host field, or -1. */
  int hostField;
  /** Index of the Content-Length field, or -1. */
  int contentLengthField;
  /** Index of the Transfer-Encoding field, or -1. */
  int transferEncodingField;

  /**
   * Creates a parser.
   *
   * @param what           the head's name in messages ("request", "response")
   * @param singleHost     refuse a second Host field
   * @param maxStartLine   longest start line in bytes
   * @param maxHeaderBytes largest header section in bytes
   * @param maxHeaderCount most field lines
   */
  HeadParser(String what, boolean singleHost, int maxStartLine, int maxHeaderBytes, int maxHeaderCount) {
    this.what = what;
    this.singleHost = singleHost;
    this.maxStartLine = maxStartLine;
    this.maxHeaderBytes = maxHeaderBytes;
    this.maxHeaderCount = maxHeaderCount;
    reset();
  }

  private void reset() {
    scanned = 0;
    startLineEnd = -1;
    fields = null;
    fieldCount = 0;
    hostField = -1;
    contentLengthField = -1;
    transferEncodingField = -1;
  }

  /** Whether part of a head was read and the rest has not arrived. */
  boolean inProgress() {
    return scanned > 0;
  }

  /**
   * Reads the complete lines that arrived from the buffer's reader index on. Once the head's empty
   * line is there, moves the reader index past the head and returns it, holding a retained slice of
   * the buffer; until then returns null and consumes nothing.
   *
   * @throws DecoderException (or a subclass) when the head breaks a rule; the parser is then reset
   */
  H parse(ByteBuf in) {
    try {
      return parseLines(in);
    } catch (DecoderException e) {
      reset();
      throw e;
    }
  }

  /** Reads the start line, from {@code from} to {@code end} (before its CR LF); offsets count from {@code base}. */
  abstract void parseStartLine(byte[] b, int from, int end);

  /** Checks the framing fields of a complete head (its bytes from index 0) before it is taken. */
  abstract void checkFraming(byte[] b);

  /**
   * Makes the head from its bytes and its fields.
   *
   * @param head      the whole head, its first byte at index 0; owned by the result
   * @param fields    per field: name start, name end, value start, value end (null when none)
   * @param count     the number of fields
   * @param fieldsEnd where the empty line that ends the head starts
   */
  abstract H complete(byte[] head, int[] fields, int count, int fieldsEnd);

  private H parseLines(ByteBuf in) {
    int base = in.readerIndex();
    int end = in.writerIndex();
    while (true) {
      int from = base + scanned;
      int lf = in.indexOf(from, end, LF);
      if (lf < 0) {
        checkPartialLine(end - from);
        return null;
      }
      // Each complete line is copied once into the head's bytes and read there.
      int lineLength = lf + 1 - from;
      if (lines.length < scanned + lineLength) {
        lines = Arrays.copyOf(lines, Math.max(lines.length * 2, scanned + lineLength));
      }
      in.getBytes(from, lines, scanned, lineLength);
      int lineStart = scanned;
      scanned += lineLength;
      if (lineLength == 1 || lines[scanned - 2] != CR) {
        throw new MalformedHeadException("a line of the " + what + " head does not end with CR LF");
      }
      int lineEnd = scanned - 2;
      if (startLineEnd < 0) {
        if (lineEnd - lineStart > maxStartLine) {
          throw tooLongStartLine();
        }
        parseStartLine(lines, lineStart, lineEnd);
        startLineEnd = scanned;
        continue;
      }
      if (scanned - startLineEnd > maxHeaderBytes) {
        throw tooLongHeader();
      }
      if (lineEnd == lineStart) {
        checkFraming(lines);
        byte[] head = Arrays.copyOf(lines, scanned);
        in.skipBytes(scanned);
        H done = complete(head, fields, fieldCount, lineStart);
        expectedFields = Math.max(4, fieldCount);
        if (lines.length > KEPT_LINE_BYTES) {
          lines = new byte[KEPT_LINE_BYTES];
        }
        reset();
        return done;
      }
      parseField(lines, lineStart, lineEnd);
    }
  }

  private void checkPartialLine(int partial) {
    if (startLineEnd < 0 && partial > maxStartLine + 1) {
      throw tooLongStartLine();
    }
    if (startLineEnd >= 0 && scanned - startLineEnd + partial > maxHeaderBytes) {
      throw tooLongHeader();
    }
  }

  private TooLongHttpLineException tooLongStartLine() {
    return new TooLongHttpLineException("the " + what + " line is longer than " + maxStartLine + " bytes");
  }

  private TooLongHttpHeaderException tooLongHeader() {
    return new TooLongHttpHeaderException("the header section is larger than " + maxHeaderBytes + " bytes");
  }

  /** The start of a field's value in the head's bytes. */
  int valueStart(int field) {
    return fields[field * 4 + 2];
  }

  /** The end of a field's value in the head's bytes. */
  int valueEnd(int field) {
    return fields[field * 4 + 3];
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

  private void parseField(byte[] in, int from, int lineEnd) {
    int colon = fieldNameEnd(in, from, lineEnd);
    int valueStart = skipOws(in, colon + 1, lineEnd);
    int valueEnd = trimEnd(in, valueStart, lineEnd);
    checkValue(in, valueStart, valueEnd);
    if (fieldCount == maxHeaderCount) {
      throw new TooManyHeadersException(maxHeaderCount);
    }
    if (fields == null) {
      fields = new int[expectedFields * 4];
    } else if (fieldCount * 4 == fields.length) {
      fields = Arrays.copyOf(fields, fields.length * 2);
    }
    int field = fieldCount++;
    fields[field * 4] = from;
    fields[field * 4 + 1] = colon;
    fields[field * 4 + 2] = valueStart;
    fields[field * 4 + 3] = valueEnd;
    noteFraming(in, from, colon - from, field);
  }

  /** Checks the field name at the start of a line and returns the index of its colon. */
  private static int fieldNameEnd(byte[] in, int from, int lineEnd) {
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

  static void checkValue(byte[] in, int from, int end) {
    for (int i = from; i < end; i++) {
      int b = in[i] & 0xff;
      if ((b < ' ' && b != '\t') || b == 0x7f) {
        throw new MalformedHeadException("a header value with a control character");
      }
    }
  }

  static boolean isOws(byte b) {
    return b == ' ' || b == '\t';
  }

  private void noteFraming(byte[] in, int name, int length, int field) {
    if (singleHost && length == 4 && nameIs(in, name, "host")) {
      if (hostField >= 0) {
        throw new MalformedHeadException("more than one Host header");
      }
      hostField = field;
    } else if (length == 14 && nameIs(in, name, "content-length")) {
      if (contentLengthField >= 0) {
        throw new MalformedHeadException("more than one Content-Length header");
      }
      contentLengthField = field;
    } else if (length == 17 && nameIs(in, name, "transfer-encoding")) {
      if (transferEncodingField >= 0) {
        throw new MalformedHeadException("more than one Transfer-Encoding header");
      }
      transferEncodingField = field;
    }
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
   * rules of a head's field line; framing fields in trailers are dropped.
   */
  static void parseTrailer(byte[] in, int from, int lineEnd, HttpHeaders trailers) {
    int colon = fieldNameEnd(in, from, lineEnd);
    int valueStart = skipOws(in, colon + 1, lineEnd);
    int valueEnd = trimEnd(in, valueStart, lineEnd);
    checkValue(in, valueStart, valueEnd);
    int length = colon - from;
    if ((length == 14 && nameIs(in, from, "content-length"))
        || (length == 17 && nameIs(in, from, "transfer-encoding"))
        || (length == 7 && nameIs(in, from, "trailer"))
        || (length == 4 && nameIs(in, from, "host"))) {
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
    // Typed loops: the proxy adds a few fields per message, and a loop over CharSequence.charAt
    // goes through an interface call per character.
    boolean token = name instanceof AsciiString ascii ? isToken(ascii) : isToken(name.toString());
    if (!token) {
      throw new IllegalArgumentException("header name '" + name + "' is not a token");
    }
    boolean clean = value instanceof String text ? hasNoLineBreak(text)
        : value instanceof AsciiString ascii ? hasNoLineBreak(ascii) : hasNoLineBreak(value.toString());
    if (!clean) {
      throw new IllegalArgumentException("header '" + name + "' value with CR, LF or NUL");
    }
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
      if (c == '\r' || c == '\n' || c == 0) {
        return false;
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
}
