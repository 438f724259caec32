package dev.meridian.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.http1.HexDigits;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.RepeatedTest;

/**
 * A request id's and a traceparent's bulk write into a head ({@link HexDigits#writeTo}) gives exactly
 * the bytes their characters spell, for many random values (each digit position sees every nibble).
 */
class HexDigitsWriteTest {

  private static String written(CharSequence text) {
    byte[] into = new byte[text.length() + 2];
    into[0] = '>'; // not at index 0: the write goes where it is told
    into[into.length - 1] = '<';
    int end = ((HexDigits) text).writeTo(into, 1);
    assertThat(end).isEqualTo(1 + text.length());
    assertThat(into[into.length - 1]).as("the byte after the text").isEqualTo((byte) '<');
    return new String(into, 1, text.length(), StandardCharsets.US_ASCII);
  }

  @RepeatedTest(50)
  void aRequestIdIsWrittenAsItIsSpelled() {
    CharSequence id = RequestIds.generate();
    assertThat(written(id)).isEqualTo(id.toString()).hasSize(32).matches("[0-9a-f]{32}");
  }

  @RepeatedTest(50)
  void aTraceparentIsWrittenAsItIsSpelled() {
    CharSequence sampled = TraceContext.nextHop(new DefaultHttpHeaders()
        .add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), false);
    CharSequence fresh = TraceContext.nextHop(new DefaultHttpHeaders(), true);
    for (CharSequence value : new CharSequence[] {sampled, fresh}) {
      assertThat(written(value)).isEqualTo(value.toString()).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
    }
  }
}
