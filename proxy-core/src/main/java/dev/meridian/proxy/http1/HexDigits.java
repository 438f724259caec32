package dev.meridian.proxy.http1;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Text made of random bits that Meridian keeps as numbers and spells in lower-case hex only when it is
 * read (written into a head, logged): a request id or a traceparent costs one small object, not a
 * String and its bytes. Only hex digits and dashes, so never a line break: header checks may take it
 * as it is. Immutable; {@link #toString} makes the String when one is needed.
 */
public abstract class HexDigits implements CharSequence {
  protected HexDigits() {}

  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private static final byte[] HEX_BYTES = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  /** A byte array's 8 bytes from an index as one long, the first byte the highest. */
  private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  /** The hex digit of bits {@code 60 - 4 * index} to {@code 63 - 4 * index} of {@code value} (0 the highest). */
  protected static char digit(long value, int index) {
    return HEX[(int) (value >>> (60 - 4 * index)) & 0xf];
  }

  /**
   * Writes the text as ASCII bytes into {@code into} from index {@code at} (what {@link #charAt}
   * spells, without a call per character: a head writer's hot path) and returns the index after it.
   * The array has room for {@link #length} bytes from {@code at}.
   */
  public abstract int writeTo(byte[] into, int at);

  /** Writes the 16 hex digits of {@code value}, highest first, as two 8-byte words; returns the index after. */
  protected static int writeDigits(byte[] into, int at, long value) {
    WORDS.set(into, at, eightDigits((int) (value >>> 32)));
    WORDS.set(into, at + 8, eightDigits((int) value));
    return at + 16;
  }

  /** Writes the 2 hex digits of the low byte of {@code value}; returns the index after. */
  protected static int writeByteDigits(byte[] into, int at, int value) {
    into[at] = HEX_BYTES[(value >>> 4) & 0xf];
    into[at + 1] = HEX_BYTES[value & 0xf];
    return at + 2;
  }

  /** The 8 hex digits of {@code bits} as the bytes of a long, the first digit in the highest byte. */
  private static long eightDigits(int bits) {
    long word = 0;
    for (int shift = 28; shift >= 0; shift -= 4) {
      word = word << 8 | HEX_BYTES[(bits >>> shift) & 0xf];
    }
    return word;
  }

  @Override
  public CharSequence subSequence(int start, int end) {
    return toString().substring(start, end);
  }

  @Override
  public String toString() {
    char[] chars = new char[length()];
    for (int i = 0; i < chars.length; i++) {
      chars[i] = charAt(i);
    }
    return new String(chars);
  }
}
