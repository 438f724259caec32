package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Base64UrlTest {
  private final byte[] out = new byte[70];

  @Test
  void decodesWhatTheJdkUrlEncoderWritesWithoutPadding() {
    Random random = new Random(17);
    for (int length = 0; length <= 70; length++) {
      for (int sample = 0; sample < 20; sample++) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        String text = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Arrays.fill(out, (byte) 0x5a);

        assertThat(Base64Url.decode(text, 0, text.length(), out)).as("%d bytes", length).isEqualTo(length);
        assertThat(Arrays.copyOf(out, length)).as("%d bytes: %s", length, text).isEqualTo(bytes);
      }
    }
  }

  @Test
  void decodesEveryCharacterOfTheAlphabet() {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    byte[] all = Base64.getUrlDecoder().decode(alphabet);
    assertThat(Base64Url.decode(alphabet, 0, alphabet.length(), out)).isEqualTo(48);
    assertThat(Arrays.copyOf(out, 48)).isEqualTo(all);
  }

  @Test
  void decodesARangeInsideLongerText() {
    byte[] bytes = {1, 2, 3, 4, 5, (byte) 0xfb, (byte) 0xff};
    String encoded = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    String text = "x=" + encoded + "; y";
    assertThat(Base64Url.decode(new StringBuilder(text), 2, 2 + encoded.length(), out)).isEqualTo(bytes.length);
    assertThat(Arrays.copyOf(out, bytes.length)).isEqualTo(bytes);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"AB+A", "AB/A", "ABC=", "AB==", "AB A", "AB.A", "ABéA", "AB\u0000A", "AB\u007fA",
      "AB\u0141A", "AB\uFF21A"})
  void refusesCharactersOutsideTheAlphabet(String text) {
    assertThat(Base64Url.decode(text, 0, text.length(), out)).isEqualTo(-1);
  }

  @ParameterizedTest(name = "{0} characters")
  @ValueSource(ints = {1, 5, 9, 13, 93})
  void refusesALengthThatLeavesOneCharacterDangling(int length) {
    String text = "A".repeat(length);
    assertThat(Base64Url.decode(text, 0, length, out)).isEqualTo(-1);
    assertThat(Base64Url.decode("A".repeat(length - 1), 0, length - 1, out)).isEqualTo((length - 1) / 4 * 3);
  }

  @Test
  void refusesNonZeroSpareBits() {
    // Two characters carry 12 bits for one byte: the last 4 must be 0. Three carry 18 for two: 2 spare.
    assertThat(Base64Url.decode("AA", 0, 2, out)).isEqualTo(1);
    assertThat(Base64Url.decode("AB", 0, 2, out)).isEqualTo(-1);
    assertThat(Base64Url.decode("AI", 0, 2, out)).isEqualTo(-1);
    assertThat(Base64Url.decode("AQ", 0, 2, out)).isEqualTo(1);
    assertThat(out[0]).isEqualTo((byte) 1);
    assertThat(Base64Url.decode("AAA", 0, 3, out)).isEqualTo(2);
    assertThat(Base64Url.decode("AAB", 0, 3, out)).isEqualTo(-1);
    assertThat(Base64Url.decode("AAC", 0, 3, out)).isEqualTo(-1);
    assertThat(Base64Url.decode("AAE", 0, 3, out)).isEqualTo(2);
    assertThat(out[1]).isEqualTo((byte) 1);
  }

  @Test
  void refusesTextThatDoesNotFitTheOutput() {
    byte[] small = new byte[5];
    assertThat(Base64Url.decode("AAAAAAA", 0, 7, small)).as("7 characters = 5 bytes").isEqualTo(5);
    assertThat(Base64Url.decode("AAAAAAAA", 0, 8, small)).as("8 characters = 6 bytes").isEqualTo(-1);
  }

  @Test
  void decodesNothingFromNothing() {
    assertThat(Base64Url.decode("abc", 1, 1, out)).isZero();
  }
}
