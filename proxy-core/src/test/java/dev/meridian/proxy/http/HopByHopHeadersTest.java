package dev.meridian.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.http1.ServerHttpCodec;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@link HopByHopHeaders#strip} removes, on a head read in place and on Netty's header objects:
 * the fixed hop-by-hop set and each name a Connection header lists, however the list is spaced.
 */
class HopByHopHeadersTest {
  private final List<Object> held = new ArrayList<>();

  @AfterEach
  void release() {
    held.forEach(ReferenceCountUtil::release);
  }

  /** The fields after the request line, read in place (raw) or copied into DefaultHttpHeaders. */
  private HttpHeaders headers(boolean raw, String... fields) {
    String head = "GET / HTTP/1.1\r\nHost: example.test\r\n" + String.join("\r\n", fields) + "\r\n\r\n";
    EmbeddedChannel channel = new EmbeddedChannel(new ServerHttpCodec(8192, 32768, 100));
    channel.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
    HttpRequest request = channel.readInbound();
    held.add(request);
    channel.finishAndReleaseAll();
    assertThat(request.decoderResult().isSuccess()).as(String.valueOf(request.decoderResult())).isTrue();
    if (raw) {
      return request.headers();
    }
    return new DefaultHttpHeaders().add(request.headers());
  }

  private static String names(HttpHeaders headers) {
    return headers.names().stream().map(n -> n.toLowerCase()).sorted().collect(Collectors.joining(","));
  }

  @ParameterizedTest(name = "read in place: {0}")
  @ValueSource(booleans = {true, false})
  void namesListedInConnectionGoWhateverTheSpacing(boolean raw) {
    HttpHeaders headers = headers(raw, "Connection: keep-alive, X-Foo ,  ,x-bar\t,", "Connection: X-Third",
        "X-Foo: 1", "X-Bar: 2", "X-Third: 3", "X-Kept: 4", "Keep-Alive: timeout=5", "TE: trailers",
        "Proxy-Connection: keep-alive");
    HopByHopHeaders.strip(headers, false);
    assertThat(names(headers)).isEqualTo("host,x-kept");
  }

  @ParameterizedTest(name = "read in place: {0}")
  @ValueSource(booleans = {true, false})
  void framingHostAndTheKeptNameStayWhenListed(boolean raw) {
    HttpHeaders headers = headers(raw, "Connection: Content-Length, HOST, x-request-id, Traceparent, X-Gone, close",
        "Content-Length: 0", "X-Request-Id: abc", "traceparent: 00-x", "X-Gone: 1", "Close: yes");
    HopByHopHeaders.strip(headers, false, new AsciiString[] {AsciiString.of("X-Request-Id"), AsciiString.of("traceparent")});
    // A field named Close goes with the close option (RFC 9110 reserves the name for that reason).
    assertThat(names(headers)).isEqualTo("content-length,host,traceparent,x-request-id");
  }

  @ParameterizedTest(name = "read in place: {0}")
  @ValueSource(booleans = {true, false})
  void upgradeStaysOnlyWhenTheMessageSwitchesProtocols(boolean raw) {
    HttpHeaders kept = headers(raw, "Connection: Upgrade", "Upgrade: websocket");
    HopByHopHeaders.strip(kept, true);
    assertThat(names(kept)).isEqualTo("host,upgrade");

    HttpHeaders removed = headers(raw, "Connection: Upgrade", "Upgrade: websocket");
    HopByHopHeaders.strip(removed, false);
    assertThat(names(removed)).isEqualTo("host");
  }
  @ParameterizedTest(name = "read in place: {0}")
  @ValueSource(booleans = {true, false})
  void hopByHopFieldsGoWhetherTheyArrivedOrWereAdded(boolean raw) {
    HttpHeaders headers = headers(raw, "Connection: keep-alive, TE", "TE: trailers", "Trailer: X-Sum",
        "X-Kept: 1", "Keep-Alive: timeout=5");
    headers.add("Upgrade", "h2c");
    headers.add("X-Added", "2");
    HopByHopHeaders.strip(headers, false);
    assertThat(names(headers)).isEqualTo("host,x-added,x-kept");
  }

  @ParameterizedTest(name = "read in place: {0}")
  @ValueSource(booleans = {true, false})
  void anAddedConnectionHeaderNamesFieldsToo(boolean raw) {
    HttpHeaders headers = headers(raw, "Connection: keep-alive", "X-Named: 1", "X-Kept: 2");
    headers.add("Connection", "X-Named");
    HopByHopHeaders.strip(headers, false);
    assertThat(names(headers)).isEqualTo("host,x-kept");
  }
}
