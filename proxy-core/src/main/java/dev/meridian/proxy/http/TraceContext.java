package dev.meridian.proxy.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
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
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  /** Per thread: the characters of the value being made (the String copies them). */
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[LENGTH]);

  private TraceContext() {}

  /**
   * Sets the request's {@code traceparent} for the next hop and returns it: the client's trace with a
   * new parent id, or a new trace.
   *
   * @param sampleNew whether a trace Meridian starts has the sampled flag set
   */
  public static String nextHop(HttpHeaders headers, boolean sampleNew) {
    String incoming = headers.get(TRACEPARENT);
    String next;
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
  public static String traceId(String traceparent) {
    return traceparent.substring(3, 35);
  }

  /** The span id (16 hex digits) of a value {@link #nextHop} returned: Meridian's hop. */
  public static String spanId(String traceparent) {
    return traceparent.substring(36, 52);
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
  private static String childOf(String incoming) {
    byte[] out = SCRATCH.get();
    out[0] = '0';
    out[1] = '0';
    out[2] = '-';
    for (int i = 3; i < 36; i++) {
      out[i] = (byte) incoming.charAt(i);
    }
    writeHex(out, 36, nonZeroRandom());
    out[52] = '-';
    out[53] = (byte) incoming.charAt(53);
    out[54] = (byte) incoming.charAt(54);
    return new String(out, 0, LENGTH, StandardCharsets.ISO_8859_1);
  }

  private static String newTrace(boolean sampled) {
    byte[] out = SCRATCH.get();
    out[0] = '0';
    out[1] = '0';
    out[2] = '-';
    writeHex(out, 3, nonZeroRandom());
    writeHex(out, 19, ThreadLocalRandom.current().nextLong());
    out[35] = '-';
    writeHex(out, 36, nonZeroRandom());
    out[52] = '-';
    out[53] = '0';
    out[54] = sampled ? (byte) '1' : (byte) '0';
    return new String(out, 0, LENGTH, StandardCharsets.ISO_8859_1);
  }

  private static long nonZeroRandom() {
    long value;
    do {
      value = ThreadLocalRandom.current().nextLong();
    } while (value == 0);
    return value;
  }

  private static void writeHex(byte[] out, int at, long value) {
    for (int i = 0; i < 16; i++) {
      out[at + i] = HEX[(int) (value >>> (60 - 4 * i)) & 0xf];
    }
  }
}
