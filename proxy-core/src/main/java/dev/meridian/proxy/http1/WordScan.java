package dev.meridian.proxy.http1;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Scans a head's bytes eight at a time (SWAR: each byte array word read as a little-endian long, so
 * the lowest bits hold the lowest index): the next line feed or CTL byte, and whether a field value
 * holds a control byte. A range that does not fill a last word is read as a whole word when the array has
 * the bytes, its flags past the range masked off, else byte by byte.
 */
final class WordScan {
  private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private static final long ONES = 0x0101010101010101L;

  private static final long HIGH_BITS = 0x8080808080808080L;

  private static final long LOW_BITS = 0x7f7f7f7f7f7f7f7fL;

  private static final long LINE_FEEDS = ONES * '\n';

  private static final long TABS = ONES * '\t';

  private static final long SPACES = ONES * ' ';

  private static final long DELETES = ONES * 0x7f;

  /** Added to a byte's low seven bits, sets its high bit exactly when they are {@code >= 0x20}. */
  private static final long FROM_SPACE = ONES * (0x80 - ' ');

  /**
   * The index of the first LF from {@code from} (inclusive) to {@code to} (exclusive), or -1.
   */
  static int indexOfLineFeed(byte[] bytes, int from, int to) {
    return indexOf(bytes, from, to, false);
  }

  /**
   * The index of the first CTL byte (RFC 5234: 0x00-0x1F, HTAB, CR and LF among them, or 0x7F) from
   * {@code from} (inclusive) to {@code to} (exclusive), or -1.
   */
  static int indexOfCtl(byte[] bytes, int from, int to) {
    return indexOf(bytes, from, to, true);
  }

  /**
   * The first LF, or CTL byte, in the range. The word tests flag the lowest such byte exactly (a
   * borrow may flag bytes above it falsely, never one below), which is the one used.
   */
  private static int indexOf(byte[] bytes, int from, int to, boolean ctl) {
    int index = from;
    for (; index <= to - Long.BYTES; index += Long.BYTES) {
      long word = (long) WORDS.get(bytes, index);
      long found = ctl ? ctls(word) : lineFeeds(word);
      if (found != 0) {
        return index + (Long.numberOfTrailingZeros(found) >>> 3);
      }
    }
    if (index < to && index <= bytes.length - Long.BYTES) {
      long word = (long) WORDS.get(bytes, index);
      long found = (ctl ? ctls(word) : lineFeeds(word)) & lowBytes(to - index);
      return found == 0 ? -1 : index + (Long.numberOfTrailingZeros(found) >>> 3);
    }
    for (; index < to; index++) {
      int b = bytes[index] & 0xff;
      if (ctl ? b < ' ' || b == 0x7f : b == '\n') {
        return index;
      }
    }
    return -1;
  }

  /**
   * Whether a byte from {@code from} to {@code end} is a control byte a field value must not hold:
   * below 0x20 but HTAB, or 0x7F (bytes from 0x80, obs-text, are allowed).
   */
  static boolean hasControlByte(byte[] bytes, int from, int end) {
    int index = from;
    for (; index <= end - Long.BYTES; index += Long.BYTES) {
      if (controlBytes((long) WORDS.get(bytes, index)) != 0) {
        return true;
      }
    }
    if (index < end && index <= bytes.length - Long.BYTES) {
      return (controlBytes((long) WORDS.get(bytes, index)) & lowBytes(end - index)) != 0;
    }
    for (; index < end; index++) {
      int b = bytes[index] & 0xff;
      if ((b < ' ' && b != '\t') || b == 0x7f) {
        return true;
      }
    }
    return false;
  }

  /** The high bit of the lowest LF byte set (higher bytes may be flagged falsely by the borrow). */
  private static long lineFeeds(long word) {
    long x = word ^ LINE_FEEDS;
    return (x - ONES) & ~x & HIGH_BITS;
  }

  /** The high bit of the lowest CTL byte set (higher bytes may be flagged falsely by the borrow). */
  private static long ctls(long word) {
    long deletes = word ^ DELETES;
    return (((word - SPACES) & ~word) | ((deletes - ONES) & ~deletes)) & HIGH_BITS;
  }

  /** The high bit of every control byte set, and of no other: each byte is tested alone, no carry crosses. */
  private static long controlBytes(long word) {
    long belowSpace = ~((word & LOW_BITS) + FROM_SPACE) & ~word & HIGH_BITS;
    return (belowSpace & ~zeroBytes(word ^ TABS)) | zeroBytes(word ^ DELETES);
  }

  /** The high bit of every zero byte set, and of no other. */
  private static long zeroBytes(long x) {
    return ~(((x & LOW_BITS) + LOW_BITS) | x | LOW_BITS);
  }

  /** A mask of the lowest {@code count} bytes, 1 to 7. */
  private static long lowBytes(int count) {
    return -1L >>> ((Long.BYTES - count) << 3);
  }

  private WordScan() {}
}
