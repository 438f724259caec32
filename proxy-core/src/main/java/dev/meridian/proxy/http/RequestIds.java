package dev.meridian.proxy.http;

import dev.meridian.proxy.http1.HexDigits;
import java.util.concurrent.ThreadLocalRandom;

/** Decides whether a client's request id can be kept, and makes new ones. */
public final class RequestIds {
  /** Longest request id kept as the client sent it, in characters. */
  static final int MAX_LENGTH = 128;

  private RequestIds() {}

  /**
   * Whether the id is well-formed: 1-128 characters of letters, digits and {@code - _ . : + / =}, so
   * it can be logged and echoed without escaping.
   */
  public static boolean isWellFormed(CharSequence id) {
    if (id == null || id.length() == 0 || id.length() > MAX_LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/' || c == '=';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** A new random id: 32 lower-case hex digits (128 random bits). */
  public static CharSequence generate() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return new Generated(random.nextLong(), random.nextLong());
  }

  /** A generated id: its 128 bits, spelled when read. */
  private static final class Generated extends HexDigits {
    private final long high;
    private final long low;

    Generated(long high, long low) {
      this.high = high;
      this.low = low;
    }

    @Override
    public int length() {
      return 32;
    }

    @Override
    public char charAt(int index) {
      if (index < 0 || index >= 32) {
        throw new IndexOutOfBoundsException(index);
      }
      return digit(index < 16 ? high : low, index & 15);
    }

    @Override
    public int writeTo(byte[] into, int at) {
      return writeDigits(into, writeDigits(into, at, high), low);
    }
  }
}
