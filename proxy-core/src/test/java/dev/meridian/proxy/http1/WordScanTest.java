package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The eight-bytes-at-a-time scans (LF, the first CTL byte, a value's control bytes) against their
 * byte-by-byte definitions: a byte planted at each
 * position of a range (each of the 8 in a word, in a last part word, near the array's end where no
 * whole word can be read) among bytes that must not count (the same bytes outside the range), and
 * random mixes of the bytes the word tricks could confuse.
 */
class WordScanTest {
  /** Bytes next to the ones looked for, and those a borrow or carry between bytes could confuse. */
  private static final byte[] TRICKY = {0x00, 0x01, 0x08, 0x09, 0x0a, 0x0b, 0x0d, 0x1f, 0x20, 0x21, 0x7e, 0x7f,
      (byte) 0x80, (byte) 0x8a, (byte) 0x9f, (byte) 0xa0, (byte) 0xff, 'a'};

  private static int firstLineFeed(byte[] bytes, int from, int to) {
    for (int i = from; i < to; i++) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private static boolean isControl(int b) {
    return (b < 0x20 && b != '\t') || b == 0x7f;
  }

  private static boolean anyControl(byte[] bytes, int from, int to) {
    for (int i = from; i < to; i++) {
      if (isControl(bytes[i] & 0xff)) {
        return true;
      }
    }
    return false;
  }

  /** A check of one scan on one array: {@code at} is where the value was planted, -1 for none. */
  private interface Placement {
    void check(byte[] bytes, int from, int to, int at, int value);
  }

  /**
   * Runs the check on each range of a 26-byte array that starts in its first nine bytes (so ranges end
   * in each position of a word, in a part word and where no whole word is left), the background
   * outside the range and 'x' inside: with none of the values, then with each value at each position.
   */
  private static void forEachPlacement(byte[] backgrounds, int[] values, Placement placement) {
    byte[] bytes = new byte[26];
    for (byte background : backgrounds) {
      for (int from = 0; from <= 9; from++) {
        for (int to = from; to <= bytes.length; to++) {
          Arrays.fill(bytes, background);
          Arrays.fill(bytes, from, to, (byte) 'x');
          placement.check(bytes, from, to, -1, -1);
          for (int value : values) {
            for (int at = from; at < to; at++) {
              bytes[at] = (byte) value;
              placement.check(bytes, from, to, at, value);
              Arrays.fill(bytes, from, to, (byte) 'x');
            }
          }
        }
      }
    }
  }

  private static int[] allByteValues() {
    int[] values = new int[256];
    for (int i = 0; i < values.length; i++) {
      values[i] = i;
    }
    return values;
  }

  @Test
  void findsALineFeedAtEachPositionAndNoneOutsideTheRange() {
    forEachPlacement(new byte[] {'a', '\n', 0x0b, 0x00, (byte) 0x8a}, new int[] {'\n'}, (bytes, from, to, at, value) -> {
      // A byte one above LF right after it (a borrow could flag it) changes nothing.
      if (at >= 0 && at + 1 < to) {
        bytes[at + 1] = 0x0b;
      }
      assertThat(WordScan.indexOfLineFeed(bytes, from, to)).as("LF at %d in %d-%d", at, from, to).isEqualTo(at);
    });
  }

  private static int firstCtl(byte[] bytes, int from, int to) {
    for (int i = from; i < to; i++) {
      int b = bytes[i] & 0xff;
      if (b < 0x20 || b == 0x7f) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void findsTheFirstCtlByteOfEachValueAtEachPosition() {
    forEachPlacement(new byte[] {'a', '\r', 0x7f, (byte) 0xff}, allByteValues(), (bytes, from, to, at, value) -> {
      // A CTL byte after it does not count, nor one a borrow could flag next to it.
      if (at >= 0 && at + 1 < to) {
        bytes[at + 1] = value == 0 ? (byte) 0x01 : 0x0a;
      }
      int expected = at >= 0 && (value < 0x20 || value == 0x7f) ? at : firstCtl(bytes, from, to);
      assertThat(WordScan.indexOfCtl(bytes, from, to)).as("0x%02x at %d in %d-%d", value, at, from, to)
          .isEqualTo(expected);
    });
  }

  @Test
  void findsEachControlByteAtEachPositionAndAllowsTheOthers() {
    forEachPlacement(new byte[] {'a', 0x00, 0x7f, (byte) 0xff}, allByteValues(), (bytes, from, to, at, value) ->
        assertThat(WordScan.hasControlByte(bytes, from, to)).as("0x%02x at %d in %d-%d", value, at, from, to)
            .isEqualTo(at >= 0 && isControl(value)));
  }

  @Test
  void namedBytesAreJudgedAsTheGrammarSays() {
    byte[] word = "abcdefgh".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    for (int value : new int[] {0x00, 0x1f, 0x7f, '\r', '\n'}) {
      for (int at = 0; at < 8; at++) {
        byte[] bytes = word.clone();
        bytes[at] = (byte) value;
        assertThat(WordScan.hasControlByte(bytes, 0, 8)).as("0x%02x at %d", value, at).isTrue();
      }
    }
    for (int value : new int[] {'\t', ' ', 0x7e, 0x80, 0xff}) {
      byte[] bytes = new byte[8];
      Arrays.fill(bytes, (byte) value);
      assertThat(WordScan.hasControlByte(bytes, 0, 8)).as("0x%02x", value).isFalse();
    }
  }

  @Test
  void randomMixesOfTrickyBytesScanAsByteByByte() {
    Random random = new Random(20261205);
    for (int round = 0; round < 200_000; round++) {
      byte[] bytes = new byte[1 + random.nextInt(40)];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = TRICKY[random.nextInt(TRICKY.length)];
      }
      int from = random.nextInt(bytes.length + 1);
      int to = from + random.nextInt(bytes.length - from + 1);
      assertThat(WordScan.indexOfLineFeed(bytes, from, to)).isEqualTo(firstLineFeed(bytes, from, to));
      assertThat(WordScan.hasControlByte(bytes, from, to)).isEqualTo(anyControl(bytes, from, to));
      assertThat(WordScan.indexOfCtl(bytes, from, to)).isEqualTo(firstCtl(bytes, from, to));
    }
  }
}
