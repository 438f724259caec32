package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A backend's small response that arrives whole is handed on as one {@link WholeResponse}, and the
 * client-facing codec writes it as one buffer when the body is small, as head and body when it is not
 * (or the head alone, answering HEAD).
 */
class WholeResponseTest {
  private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Kept: a\r\n\r\n";

  private final List<Object> decoded = new ArrayList<>();
  private HttpMethod requestMethod = HttpMethod.GET;

  @AfterEach
  void release() {
    decoded.forEach(ReferenceCountUtil::release);
  }

  @Test
  void aBodyThatArrivesWithItsHeadMakesOneMessage() {
    decode(HEAD + "hello");
    assertThat(decoded).hasSize(1);
    WholeResponse whole = (WholeResponse) decoded.get(0);
    assertThat(whole.status().code()).isEqualTo(200);
    assertThat(whole.headers().get("X-Kept")).isEqualTo("a");
    assertThat(whole.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
  }

  @Test
  void aBodyThatArrivesLaterStreamsAsParts() {
    decode(HEAD + "hel", "lo");
    assertThat(decoded).hasSize(3);
    assertThat(decoded.get(0)).isInstanceOf(RawResponse.class);
    assertThat(((HttpContent) decoded.get(1)).content().toString(StandardCharsets.US_ASCII)).isEqualTo("hel");
    assertThat(decoded.get(2)).isInstanceOf(LastHttpContent.class);
    assertThat(((HttpContent) decoded.get(2)).content().toString(StandardCharsets.US_ASCII)).isEqualTo("lo");
  }

  @Test
  void theAnswerToHeadIsNeverWholeWhateverFollows() {
    requestMethod = HttpMethod.HEAD;
    decode(HEAD + "HTTP/1.1 204 No Content\r\n\r\n");
    assertThat(decoded).hasSize(4);
    assertThat(decoded.get(0)).isInstanceOf(RawResponse.class);
    assertThat(decoded.get(1)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(((RawResponse) decoded.get(2)).status().code()).isEqualTo(204);
  }

  @Test
  void pipelinedWholeResponsesEachKeepTheirOwnBody() {
    decode(HEAD + "first" + HEAD + "other");
    assertThat(decoded).hasSize(2);
    assertThat(((WholeResponse) decoded.get(0)).content().toString(StandardCharsets.US_ASCII)).isEqualTo("first");
    assertThat(((WholeResponse) decoded.get(1)).content().toString(StandardCharsets.US_ASCII)).isEqualTo("other");
  }

  @Test
  void theClientCodecWritesASmallResponseAsOneBuffer() {
    decode(HEAD + "hello");
    WholeResponse whole = (WholeResponse) decoded.remove(0);
    ByteBuf body = whole.content();
    assertThat(written("GET / HTTP/1.1\r\nHost: x\r\n\r\n", whole)).containsExactly(HEAD + "hello");
    assertThat(body.refCnt()).isZero();
  }

  @Test
  void theClientCodecWritesALargeBodyAfterItsHeadUncopied() {
    String body = "b".repeat(60_000);
    String head = "HTTP/1.1 200 OK\r\nContent-Length: 60000\r\n\r\n";
    decode(head + body);
    WholeResponse whole = (WholeResponse) decoded.remove(0);
    assertThat(written("GET / HTTP/1.1\r\nHost: x\r\n\r\n", whole)).containsExactly(head, body);
  }

  /**
   * On the pooled allocator the proxy runs with, a head's buffer may have to grow in place to take
   * the body; every size, in a row on one connection (the head size estimate moves), comes out intact.
   */
  @Test
  void responsesInARowOnTheAdaptiveAllocatorComeOutIntact() {
    EmbeddedChannel client = new EmbeddedChannel();
    client.config().setAllocator(new AdaptiveByteBufAllocator(true, false));
    client.pipeline().addLast(new ServerHttpCodec(8192, 65536, 100));
    for (int size : new int[] {1, 100, 100, 100, 200, 255, 256, 257, 300, 1000, 4000, 100, 9000, 100}) {
      client.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.ISO_8859_1));
      Object in;
      while ((in = client.readInbound()) != null) {
        ReferenceCountUtil.release(in);
      }
      String response = "HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n" + "r".repeat(size);
      decode(response);
      WholeResponse whole = (WholeResponse) decoded.remove(0);
      ByteBuf body = whole.content();
      client.writeOutbound(whole);
      StringBuilder out = new StringBuilder();
      ByteBuf buf;
      while ((buf = client.readOutbound()) != null) {
        out.append(buf.toString(StandardCharsets.ISO_8859_1));
        buf.release();
      }
      assertThat(out.toString()).as("response with a %d-byte body", size).isEqualTo(response);
      assertThat(body.refCnt()).isZero();
    }
    assertThat(client.isOpen()).isTrue();
    assertThat(client.finishAndReleaseAll()).isFalse();
  }

  @Test
  void answeringHeadTheClientCodecDropsTheBody() {
    decode(HEAD + "hello");
    WholeResponse whole = (WholeResponse) decoded.remove(0);
    ByteBuf body = whole.content();
    assertThat(written("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", whole)).containsExactly(HEAD);
    assertThat(body.refCnt()).isZero();
  }

  /**
   * A whole response after a streamed one goes out after the streamed one's end, with the method of
   * its own request (HEAD: no body), and a promise given with a large body completes once both parts
   * are written.
   */
  @Test
  void aWholeResponseAfterAStreamedOneKeepsOrderMethodAndPromise() {
    EmbeddedChannel client = new EmbeddedChannel(new ServerHttpCodec(8192, 65536, 100));
    client.writeInbound(Unpooled.copiedBuffer("GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"
        + "GET /c HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.ISO_8859_1));
    Object in;
    while ((in = client.readInbound()) != null) {
      ReferenceCountUtil.release(in);
    }
    decode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    requestMethod = HttpMethod.HEAD;
    decode(HEAD);
    requestMethod = HttpMethod.GET;
    String large = "L".repeat(50_000);
    decode("HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n" + large);
    List<Object> parts = new ArrayList<>(decoded);
    decoded.clear();
    assertThat(parts).hasSize(6); // streamed head, content, end; HEAD's head and end; the whole one
    assertThat(parts.get(3)).isInstanceOf(RawResponse.class);
    assertThat(parts.get(5)).isInstanceOf(WholeResponse.class);
    for (Object part : parts.subList(0, 5)) {
      client.write(part);
    }
    var written = client.writeAndFlush(parts.get(5));
    assertThat(written.isSuccess()).isTrue();
    StringBuilder out = new StringBuilder();
    ByteBuf buf;
    while ((buf = client.readOutbound()) != null) {
      out.append(buf.toString(StandardCharsets.ISO_8859_1));
      buf.release();
    }
    assertThat(out.toString()).isEqualTo("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        + HEAD + "HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n" + large);
    assertThat(client.finishAndReleaseAll()).isFalse();
  }

  private void decode(String... reads) {
    EmbeddedChannel upstream = new EmbeddedChannel(new Http1ResponseDecoder(8192, 65536, 100, () -> requestMethod));
    for (String read : reads) {
      upstream.writeInbound(Unpooled.copiedBuffer(read, StandardCharsets.ISO_8859_1));
    }
    Object msg;
    while ((msg = upstream.readInbound()) != null) {
      decoded.add(msg);
    }
    assertThat(upstream.finishAndReleaseAll()).isFalse();
  }

  /** The buffers the client-facing codec writes for the response after the client sent the request. */
  private static List<String> written(String request, WholeResponse response) {
    EmbeddedChannel client = new EmbeddedChannel(new ServerHttpCodec(8192, 65536, 100));
    client.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
    Object in;
    while ((in = client.readInbound()) != null) {
      ReferenceCountUtil.release(in);
    }
    client.writeOutbound(response);
    List<String> out = new ArrayList<>();
    ByteBuf buf;
    while ((buf = client.readOutbound()) != null) {
      out.add(buf.toString(StandardCharsets.ISO_8859_1));
      buf.release();
    }
    assertThat(client.finishAndReleaseAll()).isFalse();
    return out;
  }
}
