package dev.meridian.balancer;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * HMAC-SHA256 (RFC 2104) over a byte range, written into a caller's array: the JDK's {@code Mac}
 * allocates its result on every call, this allocates nothing once built.
 *
 * <p>Not thread-safe: one instance per thread (it owns a {@link MessageDigest}).
 */
final class HmacSha256 {
  /** Length of a tag in bytes. */
  static final int LENGTH = 32;
  private static final int BLOCK = 64;

  private final MessageDigest digest;
  private final byte[] innerPad = new byte[BLOCK];
  private final byte[] outerPad = new byte[BLOCK];
  private final byte[] inner = new byte[LENGTH];

  /** Keys the MAC; a key longer than a block is hashed first, as RFC 2104 says. */
  HmacSha256(byte[] key) {
    this.digest = sha256();
    byte[] k = key.length > BLOCK ? digest.digest(key) : key;
    for (int i = 0; i < BLOCK; i++) {
      byte b = i < k.length ? k[i] : 0;
      innerPad[i] = (byte) (b ^ 0x36);
      outerPad[i] = (byte) (b ^ 0x5c);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** Writes the tag of {@code data[offset, offset + length)} into {@code out[outOffset, outOffset + 32)}. */
  void tag(byte[] data, int offset, int length, byte[] out, int outOffset) {
    try {
      digest.update(innerPad);
      digest.update(data, offset, length);
      digest.digest(inner, 0, LENGTH);
      digest.update(outerPad);
      digest.update(inner);
      digest.digest(out, outOffset, LENGTH);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    }
  }
}
