package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Fuzzes the in-place request decoder (Jazzer). On any bytes, split into any reads, it must not throw,
 * must not leak a buffer (the suite runs with leak detection at PARANOID), and whatever it accepts
 * Netty's strict decoder must accept too and read the same way: Meridian may refuse more than Netty
 * (obs-fold, whitespace before a colon), never less, and never differently (but for a Host field in
 * a trailer section, which Meridian drops).
 *
 * <p>A normal test run replays the stored inputs in {@code RequestDecoderFuzzTestInputs/} (smuggling
 * shapes, limits, pipelining); {@code JAZZER_FUZZ=1 mvn -pl proxy-core test -Dtest=RequestDecoderFuzzTest}
 * explores for as long as {@code maxDuration} allows and stores what it finds there.
 */
class RequestDecoderFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void decoderNeverAcceptsWhatNettyRefusesOrReadsItDifferently(FuzzedDataProvider data) {
    int[] splits = {data.consumeInt(1, 64), data.consumeInt(1, 8)};
    byte[] input = data.consumeRemainingAsBytes();
    Http1Messages ours = Http1Messages.decode(new ServerHttpCodec(1024, 2048, 20), input, splits);
    if (ours.requests().isEmpty()) {
      return;
    }
    Http1Messages netty = Http1Messages.decode(new HttpRequestDecoder(new HttpDecoderConfig()
        .setMaxInitialLineLength(2048)
        .setMaxHeaderSize(4096)
        .setStrictLineParsing(true)
        .setUseRfc9112TransferEncoding(true)
        .setAllowDuplicateContentLengths(false)
        .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(true))
        .setTrailersFactory(DefaultHttpHeadersFactory.trailersFactory().withValidation(true))), input, new int[0]);
    String shown = new String(input, StandardCharsets.ISO_8859_1);
    assertThat(netty.requests().size()).as("requests Netty completed (it failed with %s) of %s", netty.failure(), shown)
        .isGreaterThanOrEqualTo(ours.requests().size());
    assertThat(netty.requests().subList(0, ours.requests().size()).stream()
        .map(RequestDecoderFuzzTest::withoutHostTrailer).toList()).as(shown).isEqualTo(ours.requests());
  }

  /** Meridian drops Host from a trailer section (routing fields never come late); Netty keeps it. */
  private static String withoutHostTrailer(String request) {
    return request.replaceAll("\ntrailer host: [^\n]*", "");
  }
}
