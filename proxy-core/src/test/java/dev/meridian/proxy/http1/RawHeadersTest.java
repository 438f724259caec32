package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link RawHeaders} reads each value from its field's bytes (between the colon and the line's end,
 * optional whitespace trimmed), whatever fields around it were removed or added, and writes the kept
 * lines unchanged.
 */
class RawHeadersTest {
  private static final String HEAD = "GET / HTTP/1.1\r\n"
      + "Host: example.test\r\n"
      + "X-Padded: \t one two \t\r\n"
      + "X-Empty:\r\n"
      + "Connection: keep-alive, Upgrade\r\n"
      + "X-Last:last\r\n"
      + "\r\n";

  @Test
  void valuesAreTheFieldBytesWithoutSurroundingWhitespace() {
    RawHeaders headers = parse();

    assertThat(headers.get("host")).isEqualTo("example.test");
    assertThat(headers.get("X-PADDED")).isEqualTo("one two");
    assertThat(headers.get("x-empty")).isEmpty();
    assertThat(headers.get("x-last")).isEqualTo("last");
    assertThat(headers.get("x-missing")).isNull();
    assertThat(headers.containsValue("connection", "upgrade", true)).isTrue();
    assertThat(headers.containsValue("connection", "close", true)).isFalse();
    assertThat(headers.contains("x-padded", "one two", false)).isTrue();
    assertThat(headers.contains("x-padded", "ONE TWO", true)).isTrue();
    assertThat(headers.contains("x-padded", " one two", false)).isFalse();
  }

  @Test
  void aValueReadsTheSameWhenTheFieldsAroundItWereRemoved() {
    RawHeaders headers = parse();

    headers.remove("x-empty");
    headers.remove("host");
    headers.remove("x-last");

    assertThat(headers.get("x-padded")).isEqualTo("one two");
    assertThat(headers.containsValue("connection", "keep-alive", true)).isTrue();
    List<String> seen = new ArrayList<>();
    headers.forEachField((name, value) -> seen.add(name + "=" + value));
    assertThat(seen).containsExactly("X-Padded=one two", "Connection=keep-alive, Upgrade");
  }

  @Test
  void theKeptLinesAreWrittenAsTheyArrivedThenTheAddedOnes() {
    RawHeaders headers = parse();
    headers.remove("x-empty");
    headers.set("X-Last", "replaced");
    headers.add("Via", "1.1 a");
    headers.add("X-Forwarded-For", "192.0.2.1");
    headers.add("X-Forwarded-Proto", "http");

    ByteBuf out = Unpooled.buffer();
    try {
      headers.writeTo(out);
      assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo("Host: example.test\r\n"
          + "X-Padded: \t one two \t\r\n"
          + "Connection: keep-alive, Upgrade\r\n"
          + "X-Last: replaced\r\n"
          + "Via: 1.1 a\r\n"
          + "X-Forwarded-For: 192.0.2.1\r\n"
          + "X-Forwarded-Proto: http\r\n");
    } finally {
      out.release();
    }
    assertThat(headers.size()).isEqualTo(7);
    assertThat(headers.getAll("x-last")).containsExactly("replaced");
  }

  @Test
  void aValueEqualToTheCandidateIsTheCandidateItselfAndAnyOtherANewString() {
    String previous = new String("example.test".toCharArray());
    RawHeaders same = parse();
    assertThat(same.getReusing("host", previous)).isSameAs(previous);
    assertThat(same.get("HOST")).as("later asks get the same string").isSameAs(previous);

    RawHeaders other = parse();
    for (String candidate : new String[] {"example.tesT", "example.tes", "example.test2", "xample.test"}) {
      assertThat(other.getReusing("host", candidate)).isEqualTo("example.test").isNotSameAs(candidate);
    }
    assertThat(other.getReusing("x-padded", "one two")).isEqualTo("one two");
    assertThat(other.getReusing("x-missing", "anything")).isNull();
    assertThat(other.getReusing("host", null)).isEqualTo("example.test");
  }

  private static RawHeaders parse() {
    ByteBuf in = Unpooled.copiedBuffer(HEAD, StandardCharsets.ISO_8859_1);
    try {
      RawRequest request = new RequestHeadParser(1024, 4096, 16).parse(in);
      assertThat(in.isReadable()).as("the whole head was read").isFalse();
      return request.headers();
    } finally {
      in.release();
    }
  }
}
