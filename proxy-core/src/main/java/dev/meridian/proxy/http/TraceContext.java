package dev.meridian.proxy.http;

import dev.meridian.proxy.http1.HexDigits;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.concurrent.ThreadLocalRandom;

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) at the proxy hop: a request's
 * {@code traceparent} is passed on with the same trace id and a new parent id (Meridian's own span),
 * and one is started when the request has none or an invalid one.
 *
 * <p>A valid incoming header keeps its trace id and flags, and {@code tracestate} goes on untouched.
 * When a trace is started, any {@code tracestate} is dropped: it described a trace the backend will
 * not see. Version {@code 00} is written; a higher version is accepted if its first four fields
 * parse as version 00's (the specification's rule for future versions).
 */
public final class TraceContext {
  /** The {@code traceparent} header. */
  public static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");
  /** The {@code tracestate} header. */
  public static final AsciiString TRACESTATE = AsciiString.cached("tracestate");
  /** Length of a version-00 traceparent value: {@code 00-<32 hex>-<16 hex>-<2 hex>}. */
  static final int LENGTH = 55;

  private TraceContext() {}

  /**
   * Sets the request's {@code traceparent} for the next hop and returns it: the client's trace with a
   * new parent id, or a new trace.
   *
   * @param sampleNew whether a trace Meridian starts has the sampled flag set
   */
  public static CharSequence nextHop(HttpHeaders headers, boolean sampleNew) {
    String incoming = headers.get(TRACEPARENT);
    CharSequence next;
    if (incoming != null && isValid(incoming) && headers.getAll(TRACEPARENT).size() == 1) {
      next = childOf(incoming);
    } else {
      next = newTrace(sampleNew);
      headers.remove(TRACESTATE);
    }
    headers.set(TRACEPARENT, next);
    return next;
  }

  /** The trace id (32 hex digits) of a value {@link #nextHop} returned. */
  public static String traceId(CharSequence traceparent) {
    return traceparent.subSequence(3, 35).toString();
  }

  /** The span id (16 hex digits) of a value {@link #nextHop} returned: Meridian's hop. */
  public static String spanId(CharSequence traceparent) {
    return traceparent.subSequence(36, 52).toString();
  }

  /**
   * Whether a traceparent value parses: two lower-case hex digits of version (not {@code ff}), a
   * trace id and a parent id that are not all zeros, two hex digits of flags; version 00 is exactly
   * that long, a later version may go on after a dash.
   */
  static boolean isValid(CharSequence value) {
    int length = value.length();
    if (length < LENGTH || value.charAt(2) != '-' || value.charAt(35) != '-' || value.charAt(52) != '-') {
      return false;
    }
    if (!isHex(value, 0, 2) || (value.charAt(0) == 'f' && value.charAt(1) == 'f')) {
      return false;
    }
    boolean version00 = value.charAt(0) == '0' && value.charAt(1) == '0';
    if (version00 ? length != LENGTH : length > LENGTH && value.charAt(LENGTH) != '-') {
      return false;
    }
    return isHex(value, 3, 35) && !isZeros(value, 3, 35) && isHex(value, 36, 52) && !isZeros(value, 36, 52)
        && isHex(value, 53, 55);
  }

  private static boolean isHex(CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isZeros(CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }

  /** Version 00 with the incoming trace id and flags and a new parent id. */
  private static CharSequence childOf(String incoming) {
    return new Value(hex(incoming, 3), hex(incoming, 19), nonZeroRandom(), (int) hex(incoming, 53, 2));
  }

  private static CharSequence newTrace(boolean sampled) {
    return new Value(nonZeroRandom(), ThreadLocalRandom.current().nextLong(), nonZeroRandom(), sampled ? 1 : 0);
  }

  /** The 16 hex digits of a valid value from {@code at}, as a number. */
  private static long hex(CharSequence value, int at) {
    return hex(value, at, 16);
  }

  private static long hex(CharSequence value, int at, int digits) {
    long n = 0;
    for (int i = at; i < at + digits; i++) {
      char c = value.charAt(i);
      n = n << 4 | (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return n;
  }

  private static long nonZeroRandom() {
    long value;
    do {
      value = ThreadLocalRandom.current().nextLong();
    } while (value == 0);
    return value;
  }

  /** A version-00 traceparent Meridian made: its numbers, spelled when read. */
  private static final class Value extends HexDigits {
    private final long traceHigh;
    private final long traceLow;
    private final long span;
    private final int flags;

    Value(long traceHigh, long traceLow, long span, int flags) {
      this.traceHigh = traceHigh;
      this.traceLow = traceLow;
      this.span = span;
      this.flags = flags;
    }

    @Override
    public int length() {
      return LENGTH;
    }

    @Override
    public char charAt(int index) {
      if (index < 0 || index >= LENGTH) {
        throw new IndexOutOfBoundsException(index);
      }
      if (index < 2) {
        return '0'; // version 00
      } else if (index == 2 || index == 35 || index == 52) {
        return '-';
      } else if (index < 19) {
        return digit(traceHigh, index - 3);
      } else if (index < 35) {
        return digit(traceLow, index - 19);
      } else if (index < 52) {
        return digit(span, index - 36);
      }
      return digit(flags, index - 53 + 14); // the low byte's two digits
    }

    @Override
    public int writeTo(byte[] into, int at) {
      into[at] = '0';
      into[at + 1] = '0';
      into[at + 2] = '-';
      at = writeDigits(into, at + 3, traceHigh);
      at = writeDigits(into, at, traceLow);
      into[at] = '-';
      at = writeDigits(into, at + 1, span);
      into[at] = '-';
      return writeByteDigits(into, at + 1, flags);
    }
  }
}
