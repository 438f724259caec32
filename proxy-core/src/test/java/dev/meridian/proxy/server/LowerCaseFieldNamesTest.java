package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Field names in lower case for HTTP/2: the usual ones as shared constants, any other one copied lower-cased. */
class LowerCaseFieldNamesTest {
  @Test
  void usualNamesInAnyCaseAreTheSharedConstants() {
    assertThat((Object) LowerCaseFieldNames.of(AsciiString.of("Content-Type"))).isSameAs(HttpHeaderNames.CONTENT_TYPE);
    assertThat((Object) LowerCaseFieldNames.of(AsciiString.of("CONTENT-LENGTH"))).isSameAs(HttpHeaderNames.CONTENT_LENGTH);
    assertThat((Object) LowerCaseFieldNames.of(AsciiString.of("date"))).isSameAs(HttpHeaderNames.DATE);
    assertThat(LowerCaseFieldNames.of(AsciiString.of("X-Request-Id")).toString()).isEqualTo("x-request-id");
  }

  @ParameterizedTest
  @ValueSource(strings = {"X-Custom-Thing", "x-already-lower", "Dates", "Etag2", "A", "X-Very-Long-Field-Name-Longer-Than-Any-Known-One"})
  void otherNamesAreLowerCased(String name) {
    assertThat(LowerCaseFieldNames.of(AsciiString.of(name)).toString()).isEqualTo(name.toLowerCase());
  }
}
