package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A head reads the same however its bytes are split into reads: heads that are accepted (with a body
 * or another head after them), refused by a rule, or refused by a limit (lines longer than the bytes
 * copied at a time, ending in CR LF, a bare LF or not at all) give the same messages or the same
 * failure (exception type and message) when cut in two reads at each byte boundary, and when read a
 * byte at a time, as in one read; and in one read, the failure named here.
 */
class HeadParserSplitTest {
  private static final String LONG = "a".repeat(3000);

  private static Supplier<ChannelHandler> requests() {
    return () -> new ServerHttpCodec(64, 256, 8);
  }

  private static Supplier<ChannelHandler> responses() {
    return () -> new Http1ResponseDecoder(64, 256, 8, () -> HttpMethod.GET);
  }

  /**
   * Heads, each with the failure one read gives (null: accepted). A line already past a limit when a
   * read ends is refused by the limit then; in one read, a line ending in a bare LF is malformed.
   */
  static Stream<Arguments> heads() {
    return Stream.of(
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n", null),
        head(requests(), "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\nGET / HTTP/1.1\r\n"
            + "GET /2 HTTP/1.1\r\nHost: y\r\nX-Tab:\ta\tb\t\r\n\r\n", null),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\nX-Text: caf\u00e9 \u0080\u00ff\r\n\r\n", null),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n", "control character"),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\nX-Us: a\u001fb\r\n\r\n", "control character"),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\nX-Del: abcdefgh\u007f\r\n\r\n", "control character"),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\nX-Cr: a\rb\r\n\r\n", "control character"),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\nX-Cr: ab\r\r\n\r\n", "control character"),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\nX-Lf: a\nb\r\n\r\n", "does not end with CR LF"),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\nX-Tab: a\tb\u0001\r\n\r\n", "control character"),
        head(requests(), "GET / HTTP/1.1\r\nX\u0001: a\r\n\r\n", "not allowed"),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", "does not end with CR LF"),
        head(requests(), "GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", "obs-fold"),
        head(requests(), "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "whitespace between"),
        head(requests(), "GET / HTTP/1.1\r\n: x\r\n\r\n", "empty name"),
        head(requests(), "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n"
            + "I: 9\r\n\r\n", "TooManyHeadersException"),
        head(requests(), "GET /" + "p".repeat(60) + " HTTP/1.1\r\nHost: x\r\n\r\n", "TooLongHttpLineException"),
        head(requests(), "GET /" + LONG + " HTTP/1.1\r\nHost: x\r\n\r\n", "TooLongHttpLineException"),
        head(requests(), "GET /" + LONG + " HTTP/1.1\nHost: x\r\n\r\n", "does not end with CR LF",
            "TooLongHttpLineException"),
        head(requests(), "GET /" + LONG, "TooLongHttpLineException"),
        head(requests(), "GET / HTTP/1.1\r\nX: " + LONG + "\r\n\r\n", "TooLongHttpHeaderException"),
        head(requests(), "GET / HTTP/1.1\r\nX: " + LONG + "\n\r\n", "does not end with CR LF",
            "TooLongHttpHeaderException"),
        head(requests(), "GET / HTTP/1.1\r\nX: " + LONG, "TooLongHttpHeaderException"),
        head(requests(), "GET / HTTP/1.1\r\nX: " + "b".repeat(249) + "\r\n\r\n", null),
        head(requests(), "GET / HTTP/1.1\r\nX: " + "b".repeat(250) + "\r\n\r\n", "TooLongHttpHeaderException"),
        head(responses(), "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Sat, 05 Dec 2026 14:00:00 GMT\r\n"
            + "Content-Length: 5\r\nETag: \"675b1d7a-264\"\r\n\r\nhello", null),
        head(responses(), "HTTP/1.1 200 O\u0001K\r\nContent-Length: 0\r\n\r\n", "control character"),
        head(responses(), "HTTP/1.1 200 OK\r\nX: \u007f\r\nContent-Length: 0\r\n\r\n", "control character"),
        head(responses(), "HTTP/1.1 200 " + LONG + "\r\n\r\n", "TooLongHttpLineException"),
        head(responses(), "HTTP/1.1 200 OK\r\nX: " + LONG + "\r\n\r\n", "TooLongHttpHeaderException"));
  }

  private static Arguments head(Supplier<ChannelHandler> decoder, String text, String failure) {
    return Arguments.of(decoder, text, failure, null);
  }

  private static Arguments head(Supplier<ChannelHandler> decoder, String text, String failure, String failureWhenCut) {
    return Arguments.of(decoder, text, failure, failureWhenCut);
  }

  @ParameterizedTest
  @MethodSource("heads")
  void readsTheSameInOneReadInTwoAtEachBoundaryAndByteByByte(Supplier<ChannelHandler> decoder, String text,
      String failure, String failureWhenCut) {
    byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    Http1Messages whole = Http1Messages.decode(decoder.get(), bytes, new int[0]);
    if (failure == null) {
      assertThat(whole.failed()).as(whole.failure()).isFalse();
      assertThat(whole.requests()).isNotEmpty();
    } else {
      assertThat(whole.failure()).contains(failure);
    }
    for (int cut = 1; cut < bytes.length; cut++) {
      assertSameAs(whole, Http1Messages.decode(decoder.get(), bytes, new int[] {cut, bytes.length}), failureWhenCut,
          "cut at " + cut);
    }
    assertSameAs(whole, Http1Messages.decode(decoder.get(), bytes, new int[] {1}), failureWhenCut, "byte by byte");
  }

  private static void assertSameAs(Http1Messages whole, Http1Messages cut, String failureWhenCut, String how) {
    if (failureWhenCut != null && cut.failed() && cut.failure().contains(failureWhenCut)) {
      return;
    }
    assertThat(cut).as(how).isEqualTo(whole);
  }
}
