package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ReadYourWritesCookieTest {
  private final ReadYourWritesCookie codec =
      new ReadYourWritesCookie("0123456789abcdef0123".getBytes(StandardCharsets.US_ASCII));

  @Test
  void issuedCookieIsValidUntilItExpires() {
    String value = codec.issue(10_000);
    assertThat(codec.isValid(value, 9_999)).isTrue();
    assertThat(codec.isValid(value, 10_000)).isFalse();
  }

  @Test
  void forgedOrExtendedCookiesAreRejected() {
    String value = codec.issue(10_000);
    String signature = value.substring(value.indexOf('.') + 1);
    assertThat(codec.isValid("99999999." + signature, 0)).isFalse();
    assertThat(codec.isValid("10000.AAAA", 0)).isFalse();
    assertThat(codec.isValid("garbage", 0)).isFalse();
    assertThat(codec.isValid(null, 0)).isFalse();
    ReadYourWritesCookie other = new ReadYourWritesCookie("another-secret-of-16".getBytes(StandardCharsets.US_ASCII));
    assertThat(other.isValid(value, 0)).isFalse();
  }
}
