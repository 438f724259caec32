package dev.meridian.proxy.http1;

import static dev.meridian.proxy.http1.FieldSyntax.checkValue;
import static dev.meridian.proxy.http1.FieldSyntax.fieldNameEnd;
import static dev.meridian.proxy.http1.FieldSyntax.nameIs;
import static dev.meridian.proxy.http1.FieldSyntax.skipOws;
import static dev.meridian.proxy.http1.FieldSyntax.trimEnd;
import static dev.meridian.proxy.http1.WordScan.indexOfCtl;
import static dev.meridian.proxy.http1.WordScan.indexOfLineFeed;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.concurrent.FastThreadLocal;
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
 * Everything else is a {@link MalformedHeadException} naming the rule. Each complete line is read
 * once, when it arrives; a partial line is read again, whole, at the next read.
 *
 * <p>The head's bytes are copied into an array of the thread's in chunks of at most 1 KiB
 * (a body may follow the head in the same buffer) and read there. A line is found by its first
 * control byte, looked for eight bytes at a time ({@link WordScan}): when that is the CR of its
 * CR LF, the line holds no other and its value needs no check of its own; else its LF is looked for
 * from there and its value checked. The finished head is copied into an array of its own. Only a
 * head that is still incomplete when a read ends keeps a private copy of its complete lines until
 * the rest arrives, so an idle keep-alive connection holds no head buffer. A partial line is copied
 * no further once it is past the limits: the rest of the buffer is searched for its LF in place,
 * and it is refused as it would be once complete.
 *
 * <p>One parser serves one connection and is not thread-safe.
 *
 * @param <H> the head it makes
 */
abstract class HeadParser<H> {
  private static final byte CR = '\r';

  private static final byte LF = '\n';

  /** The most bytes copied from the buffer at a time: a body may follow the head in it. */
  private static final int CHUNK = 1024;

  private final String what;

  private final boolean singleHost;

  private final int maxStartLine;

  private final int maxHeaderBytes;

  private final int maxHeaderCount;

  /**
   * Per thread: the array the lines of a head are read into while a read lasts (the parsers of one
   * event loop take turns with it, as a parse never calls another). It grows with the largest head
   * read, which the limits bound.
   */
  private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
    @Override
    protected byte[] initialValue() {
      return new byte[1024];
    }
  };

  // The head being received: its complete lines so far, copied, and offsets from its first byte.
  // The lines of a head that is incomplete when a read ends, kept until the rest arrives; else null.
  private byte[] pending;

  private int scanned;

  // While a read is parsed: where the search for the LF of the line being read goes on, and whether
  // that line holds a CTL byte before its CR LF (else it ends at its first CTL byte).
  private int searched;

  private boolean lineHasCtl;

  private int startLineEnd = -1;

  /** Per field: where its line starts, where its name ends (its colon) and where its value starts. */
  private int[] fields;

  private int fieldCount;

  /** Once the head is complete: where its empty line starts, after the last field's line. */
  private int fieldsEnd;

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

  /** Forgets a head begun and not finished, so the next {@link #parse} starts a new one. */
  void discardPartial() {
    pending = null;
    reset();
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

  /** Reads the start line, from {@code from} to {@code end} (before its CR LF) in the head's bytes. */
  abstract void parseStartLine(byte[] b, int from, int end);

  /** Checks the framing fields of a complete head (its bytes from index 0) before it is taken. */
  abstract void checkFraming(byte[] b);

  /**
   * Makes the head from its bytes and its fields.
   *
   * @param head      the whole head, its first byte at index 0; owned by the result
   * @param fields    per field: line start, name end, value start (null when none)
   * @param count     the number of fields
   * @param fieldsEnd where the empty line that ends the head starts
   */
  abstract H complete(byte[] head, int[] fields, int count, int fieldsEnd);

  private H parseLines(ByteBuf in) {
    boolean resumed = pending != null;
    byte[] lines = resumed ? pending : SCRATCH.get();
    pending = null;
    int base = in.readerIndex();
    // The head's bytes that arrived (from its first), and those of them copied into lines.
    int available = in.writerIndex() - base;
    int copied = scanned;
    searched = scanned;
    lineHasCtl = false;
    while (true) {
      int lf = lineFeed(lines, copied);
      if (lf < 0) {
        if (copied == available) {
          checkPartialLine(available - scanned);
          if (scanned > 0) {
            // The lines so far outlive this read: they move out of the thread's array.
            pending = resumed ? lines : Arrays.copyOf(lines, Math.max(256, scanned * 2));
          }
          return null;
        }
        if (exceedsLimit(copied - scanned)) {
          refuseLongLine(in, base + copied, base + available);
        }
        if (copied == lines.length) {
          lines = Arrays.copyOf(lines, lines.length * 2);
          if (!resumed) {
            SCRATCH.set(lines);
          }
        }
        int count = Math.min(available - copied, Math.min(CHUNK, lines.length - copied));
        in.getBytes(base + copied, lines, copied, count);
        copied += count;
        continue;
      }
      int lineStart = scanned;
      boolean mayHoldCtl = lineHasCtl;
      scanned = lf + 1;
      searched = scanned;
      lineHasCtl = false;
      if (lf == lineStart || lines[lf - 1] != CR) {
        throw notCrLf();
      }
      int lineEnd = lf - 1;
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
        fieldsEnd = lineStart;
        checkFraming(lines);
        byte[] head = Arrays.copyOf(lines, scanned);
        in.skipBytes(scanned);
        H done = complete(head, fields, fieldCount, lineStart);
        expectedFields = Math.max(4, fieldCount);
        reset();
        return done;
      }
      parseField(lines, lineStart, lineEnd, mayHoldCtl);
    }
  }

  /**
   * The index of the LF that ends the line being read, in the head's bytes copied so far, or -1.
   * Looks for the line's first CTL byte: when that is the CR of its CR LF, the line holds no other
   * (so its value needs no check); else the LF is looked for from there.
   */
  private int lineFeed(byte[] lines, int copied) {
    if (!lineHasCtl) {
      int ctl = indexOfCtl(lines, searched, copied);
      if (ctl < 0) {
        searched = copied;
        return -1;
      }
      byte control = lines[ctl];
      if (control == CR) {
        if (ctl + 1 == copied) {
          // Its LF may be the next byte to arrive.
          searched = ctl;
          return -1;
        }
        if (lines[ctl + 1] == LF) {
          return ctl + 1;
        }
      } else if (control != LF && control != '\t') {
        // No line may hold it (only a field value's HTAB, and CR LF at its end): refused now, not once
        // the line ends, so bytes that are no HTTP at all (a TLS ClientHello on a cleartext port) are
        // answered at once rather than at the head's timeout.
        throw new MalformedHeadException("a control character (0x" + Integer.toHexString(control & 0xff)
            + ") is not allowed in the " + what + " head");
      }
      lineHasCtl = true;
      searched = ctl;
    }
    int lf = indexOfLineFeed(lines, searched, copied);
    if (lf < 0) {
      searched = copied;
    }
    return lf;
  }

  /** Whether a line of which {@code partial} bytes arrived (with no LF) is already past the limits. */
  private boolean exceedsLimit(int partial) {
    return startLineEnd < 0 ? partial > maxStartLine + 1 : scanned - startLineEnd + partial > maxHeaderBytes;
  }

  private void checkPartialLine(int partial) {
    if (exceedsLimit(partial)) {
      throw startLineEnd < 0 ? tooLongStartLine() : tooLongHeader();
    }
  }

  /**
   * Refuses a line already past the limits as it would be refused once complete, without copying
   * the rest of it: a line that ends without CR LF is malformed, any other is too long.
   *
   * @param from where the bytes not searched for its LF start in the buffer
   * @param end  where the bytes that arrived end
   */
  private void refuseLongLine(ByteBuf in, int from, int end) {
    int lf = in.indexOf(from, end, LF);
    if (lf >= 0 && in.getByte(lf - 1) != CR) {
      throw notCrLf();
    }
    throw startLineEnd < 0 ? tooLongStartLine() : tooLongHeader();
  }

  private MalformedHeadException notCrLf() {
    return new MalformedHeadException("a line of the " + what + " head does not end with CR LF");
  }

  private TooLongHttpLineException tooLongStartLine() {
    return new TooLongHttpLineException("the " + what + " line is longer than " + maxStartLine + " bytes");
  }

  private TooLongHttpHeaderException tooLongHeader() {
    return new TooLongHttpHeaderException("the header section is larger than " + maxHeaderBytes + " bytes");
  }

  /** The start of a field's value in the complete head's bytes. */
  int valueStart(int field) {
    return fields[field * RawHeaders.STRIDE + 2];
  }

  /** The end of a field's value in the complete head's bytes. */
  int valueEnd(byte[] head, int field) {
    return trimEnd(head, valueStart(field), lineEnd(field));
  }

  /** Where a field's line ends (its CR) in the complete head: before the next line. */
  private int lineEnd(int field) {
    return (field + 1 < fieldCount ? fields[(field + 1) * RawHeaders.STRIDE] : fieldsEnd) - 2;
  }

  /** Reads a field line; its value is checked for control bytes only when the line may hold one. */
  private void parseField(byte[] in, int from, int lineEnd, boolean mayHoldCtl) {
    int colon = fieldNameEnd(in, from, lineEnd);
    int valueStart = skipOws(in, colon + 1, lineEnd);
    if (mayHoldCtl) {
      checkValue(in, valueStart, trimEnd(in, valueStart, lineEnd));
    }
    if (fieldCount == maxHeaderCount) {
      throw new TooManyHeadersException(maxHeaderCount);
    }
    if (fields == null) {
      fields = new int[expectedFields * RawHeaders.STRIDE];
    } else if (fieldCount * RawHeaders.STRIDE == fields.length) {
      fields = Arrays.copyOf(fields, fields.length * 2);
    }
    int field = fieldCount++;
    fields[field * RawHeaders.STRIDE] = from;
    fields[field * RawHeaders.STRIDE + 1] = colon;
    fields[field * RawHeaders.STRIDE + 2] = valueStart;
    noteFraming(in, from, colon - from, field);
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
}
