package dev.meridian.proxy.http1;

/**
 * Text made of random bits that Meridian keeps as numbers and spells in lower-case hex only when it is
 * read (written into a head, logged): a request id or a traceparent costs one small object, not a
 * String and its bytes. Only hex digits and dashes, so never a line break: header checks may take it
 * as it is. Immutable; {@link #toString} makes the String when one is needed.
 */
public abstract class HexDigits implements CharSequence {
  protected HexDigits() {}

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** The hex digit of bits {@code 60 - 4 * index} to {@code 63 - 4 * index} of {@code value} (0 the highest). */
  protected static char digit(long value, int index) {
    return HEX[(int) (value >>> (60 - 4 * index)) & 0xf];
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
