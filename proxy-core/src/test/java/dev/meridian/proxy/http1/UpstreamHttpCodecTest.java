package dev.meridian.proxy.http1;

import static dev.meridian.proxy.testing.Bytes.concat;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A request head read in place goes upstream as the bytes that arrived, edits aside. */
class UpstreamHttpCodecTest {
  /** A target with raw bytes above 0x7f (UTF-8 e-acute, a lone 0xFF), as some clients send. */
  private static final byte[] LINE = concat("GET /caf".getBytes(StandardCharsets.US_ASCII),
      new byte[] {(byte) 0xC3, (byte) 0xA9}, "?q=".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xFF},
      " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));

  @Test
  void anUntouchedRequestLineGoesUpstreamByteForByte() {
    RawRequest request = decode();
    byte[] sent = encode(request);
    assertThat(startOf(sent, LINE.length)).isEqualTo(LINE);
  }

  @Test
  void settingTheSameValuesKeepsTheLineAsItCame() {
    RawRequest request = decode();
    request.setMethod(HttpMethod.GET);
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    request.setUri(request.uri());
    assertThat(startOf(encode(request), LINE.length)).isEqualTo(LINE);
  }

  @Test
  void anEditedLineIsEncodedFromItsParts() {
    RawRequest request = decode();
    request.setUri("/other");
    byte[] expected = "GET /other HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] sent = encode(request);
    assertThat(startOf(sent, expected.length)).isEqualTo(expected);
    assertThat(new String(sent, StandardCharsets.ISO_8859_1)).contains("\r\nHost: a\r\n\r\n");
  }

  @Test
  void anEditedTargetKeepsItsBytesAboveAscii() {
    // Admission writes a normalized target back (e.g. "//" merged): a byte above 0x7f in it must
    // reach the backend as itself, not as the two bytes of its UTF-8 encoding.
    RawRequest request = decode();
    request.setUri(request.uri() + "&x");
    byte[] expected = concat("GET /caf".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xC3, (byte) 0xA9},
        "?q=".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xFF},
        "&x HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
    assertThat(startOf(encode(request), expected.length)).isEqualTo(expected);
  }

  @Test
  void aWholeRequestIsOneBufferWithTheLineAsItCame() {
    EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamHttpCodec(8192, 65536));
    upstream.writeOutbound(new WholeRequest(decode()), new WholeRequest(decode()));
    for (int i = 0; i < 2; i++) {
      ByteBuf written = upstream.readOutbound();
      byte[] bytes = ByteBufUtil.getBytes(written);
      written.release();
      assertThat(bytes).isEqualTo(concat(LINE, "Host: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
    }
    assertThat((Object) upstream.readOutbound()).isNull();
    assertThat(upstream.finishAndReleaseAll()).isFalse();
  }

  /** A whole request written directly still tells the response decoder its method (HEAD: no body). */
  @Test
  void aWholeHeadRequestTellsTheDecoderItsAnswerHasNoBody() {
    RawRequest request = decode();
    request.setMethod(HttpMethod.HEAD);
    EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamHttpCodec(8192, 65536));
    upstream.writeOutbound(new WholeRequest(request));
    ByteBuf written = upstream.readOutbound();
    assertThat(written.toString(StandardCharsets.ISO_8859_1)).startsWith("HEAD /caf");
    written.release();
    upstream.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        StandardCharsets.ISO_8859_1));
    assertThat((Object) upstream.readInbound()).isInstanceOf(RawResponse.class);
    assertThat((Object) upstream.readInbound()).isInstanceOf(LastHttpContent.class);
    assertThat(upstream.finishAndReleaseAll()).isFalse();
  }

  /**
   * A byte the backend sends when every request has its response, even a partial line, is refused at
   * once (a failed response, the rest discarded) rather than kept for the next request's response.
   */
  @Test
  void bytesNoRequestAwaitsAreRefusedNotKept() {
    EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamHttpCodec(8192, 65536));
    upstream.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 302 Fou", StandardCharsets.ISO_8859_1));
    HttpResponse unasked = upstream.readInbound();
    assertThat(unasked.decoderResult().isFailure()).isTrue();
    assertThat(unasked.decoderResult().cause()).hasMessageContaining("no request awaits");
    ReferenceCountUtil.release(unasked);

    upstream = new EmbeddedChannel(new UpstreamHttpCodec(8192, 65536));
    upstream.writeOutbound(new WholeRequest(decode()));
    ((ByteBuf) upstream.readOutbound()).release();
    upstream.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 302",
        StandardCharsets.ISO_8859_1));
    WholeResponse answered = upstream.readInbound();
    assertThat(answered.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo("ok");
    answered.release();
    HttpResponse after = upstream.readInbound();
    assertThat(after.decoderResult().isFailure()).isTrue();
    ReferenceCountUtil.release(after);
    assertThat(upstream.finishAndReleaseAll()).isFalse();
  }

  @Test
  void aWholeRequestWithAnEditedLineIsEncodedFromItsParts() {
    RawRequest request = decode();
    new WholeRequest(request).setUri("/other");
    EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamHttpCodec(8192, 65536));
    upstream.writeOutbound(new WholeRequest(request));
    ByteBuf written = upstream.readOutbound();
    assertThat(written.toString(StandardCharsets.ISO_8859_1)).isEqualTo("GET /other HTTP/1.1\r\nHost: a\r\n\r\n");
    written.release();
    assertThat(upstream.finishAndReleaseAll()).isFalse();
  }

  private static RawRequest decode() {
    EmbeddedChannel server = new EmbeddedChannel(new ServerHttpCodec(8192, 65536, 100));
    server.writeInbound(Unpooled.wrappedBuffer(LINE, "Host: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
    RawRequest request = server.readInbound();
    LastHttpContent end = server.readInbound();
    end.release();
    assertThat(server.finishAndReleaseAll()).isFalse();
    return request;
  }

  private static byte[] encode(RawRequest request) {
    EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamHttpCodec(8192, 65536));
    upstream.writeOutbound(request, LastHttpContent.EMPTY_LAST_CONTENT);
    ByteBuf head = upstream.readOutbound();
    byte[] bytes = ByteBufUtil.getBytes(head);
    head.release();
    upstream.finishAndReleaseAll();
    return bytes;
  }

  private static byte[] startOf(byte[] bytes, int length) {
    return java.util.Arrays.copyOf(bytes, Math.min(length, bytes.length));
  }
}
