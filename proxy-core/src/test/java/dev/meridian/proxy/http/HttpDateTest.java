package dev.meridian.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class HttpDateTest {
  @Test
  void formatsAnImfFixdateAndReusesItWithinTheSecond() {
    long millis = 1_796_441_887_914L;
    String text = HttpDate.of(millis);
    DateTimeFormatter imfFixdate = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US);
    assertThat(text).isEqualTo(imfFixdate.format(
        ZonedDateTime.ofInstant(java.time.Instant.ofEpochSecond(millis / 1000), java.time.ZoneOffset.UTC)));
    assertThat(text).endsWith(" GMT").hasSize(29);
    assertThat(HttpDate.of(millis - 914 + 999)).isSameAs(text);
    assertThat(HttpDate.of(millis + 1000)).isNotEqualTo(text);
  }

  @Test
  void localResponsesCarryADate() {
    FullHttpResponse response = LocalResponses.create(HttpResponseStatus.NOT_FOUND,
        "no route", HttpVersion.HTTP_1_1, true, AsciiString.of("x-request-id"), "r1");
    try {
      assertThat(response.headers().get(HttpHeaderNames.DATE)).matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");
    } finally {
      response.release();
    }
  }
}
