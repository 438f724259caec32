package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The added fields' lines come out exactly as {@code name: value CR LF} whatever kind of text each
 * is, and however the lines fall against the scratch array's size (lines that fill it, cross it, and
 * one longer than it).
 */
class AsciiWriterTest {
  /** Ten hex digits of a fixed value, spelled by the bulk path. */
  private static final class TenDigits extends HexDigits {
    @Override
    public int writeTo(byte[] into, int at) {
      for (int i = 0; i < 10; i++) {
        into[at + i] = (byte) charAt(i);
      }
      return at + 10;
    }

    @Override
    public int length() {
      return 10;
    }

    @Override
    public char charAt(int index) {
      return "0123abcdef".charAt(index);
    }
  }

  private static String written(List<CharSequence> fields) {
    ByteBuf out = Unpooled.buffer(16);
    try {
      out.writeByte('>');
      AsciiWriter.writeFields(out, fields.toArray(new CharSequence[0]), fields.size() / 2);
      return out.toString(1, out.readableBytes() - 1, StandardCharsets.ISO_8859_1);
    } finally {
      out.release();
    }
  }

  private static String expected(List<CharSequence> fields) {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < fields.size(); i += 2) {
      lines.append(fields.get(i)).append(": ").append(fields.get(i + 1)).append("\r\n");
    }
    return lines.toString();
  }

  @Test
  void eachKindOfTextIsWrittenAsItIsSpelled() {
    List<CharSequence> fields = List.of(AsciiString.cached("X-Forwarded-For"), "192.0.2.1, 198.51.100.7",
        "Via", new StringBuilder("1.1 meridian \u00e9"), AsciiString.of("X-Request-Id"), new TenDigits(),
        "X-Empty", "");
    assertThat(written(fields)).isEqualTo(expected(fields));
  }

  @Test
  void linesThatCrossOrExceedTheScratchArrayComeOutWhole() {
    for (int width : new int[] {100, 1014, 1015, 1016, 1020, 3000}) {
      List<CharSequence> fields = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        fields.add("X-Field-" + i);
        fields.add("v".repeat(width / (i % 3 + 1)) + i);
      }
      assertThat(written(fields)).as("values about %d bytes", width).isEqualTo(expected(fields));
    }
  }

  @Test
  void anAddedValuePastLatin1IsRefusedBeforeItCouldBeWrittenAsItsLowByte() {
    RawHeaders headers = new RawHeaders(new byte[0], null, 0, 0, 2);
    // U+010A would go out as 0x0A, a line feed: a header injected into the head.
    assertThatThrownBy(() -> headers.add("X-Team", "a\u010aX-Injected: 1"))
        .isInstanceOf(IllegalArgumentException.class);
    headers.add("X-Team", "caf\u00e9");
    assertThat(headers.get("X-Team")).isEqualTo("caf\u00e9");
  }
}
