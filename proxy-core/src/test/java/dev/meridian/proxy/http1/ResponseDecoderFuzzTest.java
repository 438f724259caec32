package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Fuzzes the in-place response decoder (Jazzer), as {@link RequestDecoderFuzzTest} does the request
 * side: on any bytes a backend may send, split into any reads, it must not throw or leak, and every
 * response it accepts Netty's decoder must read the same way (Meridian may refuse more; see
 * {@link #withoutBodilessCoding} for the one field they treat differently).
 *
 * <p>Stored inputs in {@code ResponseDecoderFuzzTestInputs/} replay in every test run;
 * {@code JAZZER_FUZZ=1 mvn -pl proxy-core test -Dtest=ResponseDecoderFuzzTest} explores.
 */
class ResponseDecoderFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void decoderNeverAcceptsWhatNettyRefusesOrReadsItDifferently(FuzzedDataProvider data) {
    int[] splits = {data.consumeInt(1, 64), data.consumeInt(1, 8)};
    byte[] input = data.consumeRemainingAsBytes();
    Http1Messages ours = Http1Messages.decode(new Http1ResponseDecoder(1024, 2048, 20, () -> HttpMethod.GET),
        input, splits);
    if (ours.requests().isEmpty()) {
      return;
    }
    Http1Messages netty = Http1Messages.decode(new HttpResponseDecoder(new HttpDecoderConfig()
        .setMaxInitialLineLength(2048).setMaxHeaderSize(4096).setValidateHeaders(true)
        .setAllowDuplicateContentLengths(false)), input, new int[0]);
    String shown = new String(input, StandardCharsets.ISO_8859_1);
    assertThat(netty.requests().size()).as("responses Netty completed (it failed with %s) of %s", netty.failure(), shown)
        .isGreaterThanOrEqualTo(ours.requests().size());
    assertThat(netty.requests().subList(0, ours.requests().size()).stream()
        .map(ResponseDecoderFuzzTest::withoutBodilessCoding).toList()).as(shown)
        .isEqualTo(ours.requests().stream().map(ResponseDecoderFuzzTest::withoutBodilessCoding).toList());
  }

  /**
   * A response that has no body (1xx, 204, 304) loses its Transfer-Encoding: Meridian drops the whole
   * field, Netty only its chunked element. Neither reaches a client (the field is hop-by-hop).
   */
  private static String withoutBodilessCoding(String response) {
    return response.matches("(?s)HTTP/\\d\\.\\d (1\\d\\d|204|304) .*")
        ? response.replaceAll("\\ntransfer-encoding: [^\\n]*", "") : response;
  }
}
