package dev.meridian.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import org.junit.jupiter.api.Test;

/**
 * The HPACK representation each field gets from an encoder using {@link NeverIndexedHeaders}: the
 * first byte of a one-field block says which (RFC 7541 section 6: {@code 0001xxxx} is a literal
 * never indexed, {@code 01xxxxxx} a literal added to the dynamic table, {@code 1xxxxxxx} an indexed
 * field).
 */
class NeverIndexedHeadersTest {
  private final Http2HeadersEncoder encoder =
      new DefaultHttp2HeadersEncoder(new NeverIndexedHeaders("X-Request-Id"));

  @Test
  void theRequestIdIsNeverIndexedWhateverItsCase() throws Exception {
    assertThat(representation("x-request-id", "8e1c2c2a3791d6d4893ec0fad32b979f")).isEqualTo("never indexed");
    assertThat(representation("X-Request-Id", "5c64ad704b3efb5b3a30dfcc5dfe7792")).isEqualTo("never indexed");
  }

  @Test
  void credentialsAreNeverIndexed() throws Exception {
    assertThat(representation("cookie", "session=abc")).isEqualTo("never indexed");
    assertThat(representation("set-cookie", "session=abc; Secure")).isEqualTo("never indexed");
    assertThat(representation("authorization", "Bearer abc")).isEqualTo("never indexed");
    assertThat(representation("proxy-authorization", "Basic YTpi")).isEqualTo("never indexed");
  }

  @Test
  void otherFieldsAreIndexedAndThenReused() throws Exception {
    assertThat(representation("server", "nginx")).isEqualTo("added to the table");
    assertThat(representation("server", "nginx")).isEqualTo("indexed");
  }

  @Test
  void aConfiguredRequestIdHeaderIsTheOneNeverIndexed() throws Exception {
    Http2HeadersEncoder custom = new DefaultHttp2HeadersEncoder(new NeverIndexedHeaders("X-Trace"));
    assertThat(representation(custom, "x-trace", "1")).isEqualTo("never indexed");
    assertThat(representation(custom, "x-request-id", "2")).isEqualTo("added to the table");
  }

  private String representation(String name, String value) throws Exception {
    return representation(encoder, name, value);
  }

  private static String representation(Http2HeadersEncoder encoder, String name, String value) throws Exception {
    Http2Headers headers = new DefaultHttp2Headers(false).add(name, value);
    ByteBuf block = Unpooled.buffer();
    try {
      encoder.encodeHeaders(1, headers, block);
      int first = block.getUnsignedByte(0);
      if ((first & 0x80) != 0) {
        return "indexed";
      }
      if ((first & 0xC0) == 0x40) {
        return "added to the table";
      }
      if ((first & 0xF0) == 0x10) {
        return "never indexed";
      }
      return String.format("other (0x%02x)", first);
    } finally {
      block.release();
    }
  }
}
