package dev.meridian.proxy.http;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/** Decides whether a client's request id can be kept, and makes new ones. */
public final class RequestIds {
  /** Longest request id kept as the client sent it, in characters. */
  static final int MAX_LENGTH = 128;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  /** Per thread: the digits of the id being made (the String copies them). */
  private static final ThreadLocal<byte[]> DIGITS = ThreadLocal.withInitial(() -> new byte[32]);

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
  public static String generate() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    byte[] out = DIGITS.get();
    long hi = random.nextLong();
    long lo = random.nextLong();
    for (int i = 0; i < 16; i++) {
      out[i] = HEX[(int) (hi >>> (60 - 4 * i)) & 0xf];
      out[16 + i] = HEX[(int) (lo >>> (60 - 4 * i)) & 0xf];
    }
    return new String(out, StandardCharsets.ISO_8859_1);
  }
}
