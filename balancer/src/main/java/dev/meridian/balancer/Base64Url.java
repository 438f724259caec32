package dev.meridian.balancer;

/** Decodes unpadded base64url (RFC 4648 section 5) from characters without allocating. */
final class Base64Url {
  private static final byte[] VALUES = new byte[128];

  static {
    java.util.Arrays.fill(VALUES, (byte) -1);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < alphabet.length(); i++) {
      VALUES[alphabet.charAt(i)] = (byte) i;
    }
  }

  private Base64Url() {}

  /**
   * Decodes {@code text[start, end)} into {@code out}.
   *
   * @return the number of bytes written, or -1 when the text is not unpadded base64url (a character
   *         outside the alphabet, a length that leaves one dangling character, non-zero spare bits) or
   *         does not fit {@code out}
   */
  static int decode(CharSequence text, int start, int end, byte[] out) {
    int chars = end - start;
    if (chars % 4 == 1 || (chars * 3) / 4 > out.length) {
      return -1;
    }
    int n = 0;
    int bits = 0;
    int buffer = 0;
    for (int i = start; i < end; i++) {
      char c = text.charAt(i);
      int v = c < 128 ? VALUES[c] : -1;
      if (v < 0) {
        return -1;
      }
      buffer = buffer << 6 | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[n++] = (byte) (buffer >>> bits);
        buffer &= (1 << bits) - 1;
      }
    }
    return buffer == 0 ? n : -1;
  }
}
