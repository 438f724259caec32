package dev.meridian.proxy.testing;

import java.io.ByteArrayOutputStream;

/** Byte arrays for tests that build raw protocol input. */
public final class Bytes {
  private Bytes() {}

  /** The parts one after the other, in one array. */
  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
