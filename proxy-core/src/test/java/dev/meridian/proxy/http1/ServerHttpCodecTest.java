package dev.meridian.proxy.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ServerHttpCodecTest {
  private final EmbeddedChannel channel = new EmbeddedChannel(new ServerHttpCodec(8192, 32768, 100));

  private List<Object> feed(String... parts) {
    for (String part : parts) {
      channel.writeInbound(Unpooled.copiedBuffer(part, StandardCharsets.ISO_8859_1));
    }
    List<Object> out = new ArrayList<>();
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      out.add(msg);
    }
    return out;
  }

  private static Throwable failureOf(List<Object> decoded) {
    try {
      for (Object o : decoded) {
        if (o instanceof HttpRequest r && r.decoderResult().isFailure()) {
          return r.decoderResult().cause();
        }
        if (o instanceof HttpContent c && c.decoderResult().isFailure()) {
          return c.decoderResult().cause();
        }
      }
      return null;
    } finally {
      decoded.forEach(ReferenceCountUtil::release);
    }
  }

  private static List<String> uris(List<Object> decoded) {
    List<String> uris = new ArrayList<>();
    for (Object o : decoded) {
      if (o instanceof HttpRequest r) {
        uris.add(r.uri());
      }
      ReferenceCountUtil.release(o);
    }
    return uris;
  }

  private static final String UPGRADE_REQUEST =
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n";

  /** What follows a request asking to switch protocols waits, undecoded, until the codec is told to read on. */
  @Test
  void bytesAfterAnUpgradeRequestWaitUntilItsAnswerIsKnown() throws Exception {
    ServerHttpCodec codec = channel.pipeline().get(ServerHttpCodec.class);
    assertThat(uris(feed(UPGRADE_REQUEST + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"))).containsExactly("/ws");
    assertThat(uris(feed("GET /third HTTP/1.1\r\nHost: a\r\n\r\n"))).isEmpty();
    assertThat(codec.holdsBytesAfterUpgradeRequest()).isTrue();
    assertThat(codec.hasPartialHead()).as("held bytes are no head in progress (no 408)").isFalse();

    codec.readOnAfterUpgradeRefused();

    assertThat(codec.holdsBytesAfterUpgradeRequest()).isFalse();
    assertThat(uris(feed())).containsExactly("/next", "/third");
    assertThat(uris(feed("GET /fourth HTTP/1.1\r\nHost: a\r\n\r\n"))).containsExactly("/fourth");
  }

  /** A client that ends its input behind an upgrade request has what it sent read as requests: no tunnel can follow. */
  @Test
  void bytesHeldAfterAnUpgradeRequestAreReadAsRequestsWhenTheInputEnds() {
    assertThat(uris(feed(UPGRADE_REQUEST + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"))).containsExactly("/ws");
    channel.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
    assertThat(uris(feed())).containsExactly("/next");
  }

  /** On a switch the codec is removed, and the bytes it held go on as they came. */
  @Test
  void bytesHeldAfterAnUpgradeRequestGoOnAsBytesWhenTheCodecIsRemoved() {
    assertThat(uris(feed(UPGRADE_REQUEST + "\u0081\u0005hello"))).containsExactly("/ws");
    channel.pipeline().remove(ServerHttpCodec.class);
    ByteBuf passed = channel.readInbound();
    try {
      assertThat(passed.toString(StandardCharsets.ISO_8859_1)).isEqualTo("\u0081\u0005hello");
    } finally {
      passed.release();
    }
  }

  /** HTTP/1.0 has no Upgrade (RFC 9110 section 7.8), and Upgrade not named in Connection asks for nothing. */
  @ParameterizedTest
  @ValueSource(strings = {
      "GET /ws HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"})
  void requestsThatDoNotAskToSwitchLeaveThePipelineFlowing(String head) {
    assertThat(uris(feed(head + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"))).containsExactly("/ws", "/next");
  }

  /**
   * Connections of one thread read their heads in the thread's array in turn: a head left incomplete
   * on one connection keeps its lines while another connection's heads, larger ones included, are
   * read in between.
   */
  @Test
  void aHeadSplitAcrossReadsKeepsItsLinesWhileAnotherConnectionReadsHeads() {
    EmbeddedChannel other = new EmbeddedChannel(new ServerHttpCodec(8192, 32768, 100));
    assertThat(feed("GET /first HTTP/1.1\r\nHost: one\r\nX-Kept: ", "")).isEmpty();
    String big = "y".repeat(5000);
    other.writeInbound(Unpooled.copiedBuffer("GET /other HTTP/1.1\r\nHost: two\r\nX-Big: " + big
        + "\r\n\r\nGET /again HTTP/1.1\r\nHost: three\r\n\r\n", StandardCharsets.ISO_8859_1));
    List<String> otherHeads = new ArrayList<>();
    Object msg;
    while ((msg = other.readInbound()) != null) {
      if (msg instanceof HttpRequest r) {
        otherHeads.add(r.uri() + " " + r.headers().get("host") + " " + r.headers().get("x-big", "").length());
      }
      ReferenceCountUtil.release(msg);
    }
    assertThat(otherHeads).containsExactly("/other two 5000", "/again three 0");

    List<Object> decoded = feed("value\r\nX-After: 2\r\n\r\n");
    try {
      HttpRequest first = (HttpRequest) decoded.get(0);
      assertThat(first.uri()).isEqualTo("/first");
      assertThat(first.headers().get("host")).isEqualTo("one");
      assertThat(first.headers().get("x-kept")).isEqualTo("value");
      assertThat(first.headers().get("x-after")).isEqualTo("2");
    } finally {
      decoded.forEach(ReferenceCountUtil::release);
      other.finishAndReleaseAll();
    }
  }

  @Test
  void wellFormedRequestsDecodeEvenWhenSplitAcrossReads() {
    List<Object> decoded = feed("GET /a HTTP/1.1\r\nHo", "st: x\r\nX-One: 1\r\n", "\r\n");
    assertThat(decoded).hasSize(2);
    assertThat(((HttpRequest) decoded.get(0)).headers().get("x-one")).isEqualTo("1");
    assertThat(decoded.get(1)).isInstanceOf(LastHttpContent.class);
    assertThat(failureOf(decoded)).isNull();
  }

  @Test
  void bodyBytesThatLookLikeFoldedHeadersAreNotMistakenForOne() {
    List<Object> decoded = feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n", "\r\n x\r\n y",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(failureOf(decoded)).isNull();
  }

  @Test
  void pipelinedRequestsAreScannedEachInTurn() {
    List<Object> decoded = feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n");
    assertThat(decoded.get(0)).isInstanceOf(HttpRequest.class);
    assertThat(((HttpRequest) decoded.get(0)).decoderResult().isSuccess()).isTrue();
    assertThat(failureOf(decoded)).isInstanceOf(MalformedHeadException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tfolded\r\n\r\n",
    "GET / HTTP/1.1\r\n Host: x\r\n\r\n",
    "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
  })
  void foldingAndSpaceBeforeColonAreRefused(String head) {
    assertThat(failureOf(feed(head))).isInstanceOf(MalformedHeadException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "GET / HTTP/1.1\nHost: x\n\n",
    "GET / HTTP/1.1\r\nHo\0st: x\r\n\r\n",
  })
  void smugglingShapesFailToDecode(String head) {
    assertThat(failureOf(feed(head))).isNotNull();
  }

  /**
   * A control byte no line may hold is refused as it arrives, before its line ends: a TLS ClientHello
   * sent to a cleartext port (0x16 0x03 ..., which may hold no LF for a long while) waited for the
   * head's timeout; a field value's HTAB is still allowed.
   */
  @ParameterizedTest
  @ValueSource(strings = {"\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003",
      "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b", "GET /\u007f HTTP/1.1"})
  void aControlByteNoLineMayHoldIsRefusedBeforeItsLineEnds(String partial) {
    assertThat(failureOf(feed(partial))).isInstanceOf(MalformedHeadException.class)
        .hasMessageContaining("control character");
    channel.finishAndReleaseAll();
  }

  @Test
  void aFieldValuesTabIsStillAllowed() {
    assertThat(uris(feed("GET /t HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\n\r\n"))).containsExactly("/t");
  }

  @Test
  void badChunkSizeFailsTheBody() {
    assertThat(failureOf(feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")))
        .isNotNull();
  }

  @Test
  void limitsMapToTheirOwnExceptions() {
    String longLine = "GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n";
    assertThat(failureOf(feed(longLine))).isInstanceOf(TooLongHttpLineException.class);
    EmbeddedChannel big = new EmbeddedChannel(new ServerHttpCodec(8192, 1024, 100));
    big.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nX: " + "b".repeat(2000) + "\r\n\r\n",
        StandardCharsets.ISO_8859_1));
    HttpRequest r = big.readInbound();
    assertThat(r.decoderResult().cause()).isInstanceOf(TooLongHttpHeaderException.class);
    big.finishAndReleaseAll();
  }

  @Test
  void headerCountAboveTheLimitIsRefused() {
    StringBuilder head = new StringBuilder("GET / HTTP/1.1\r\n");
    for (int i = 0; i < 101; i++) {
      head.append("X-").append(i).append(": v\r\n");
    }
    assertThat(failureOf(feed(head.append("\r\n").toString()))).isInstanceOf(TooManyHeadersException.class);
  }

  @Test
  void partialHeadIsReportedForTheRequestTimeout() {
    assertThat(((ServerHttpCodec) channel.pipeline().first()).hasPartialHead()).isFalse();
    feed("GET / HT");
    assertThat(((ServerHttpCodec) channel.pipeline().first()).hasPartialHead()).isTrue();
  }

  @Test
  void responseToHeadHasNoBodyEvenWhenChunked() {
    failureOf(feed("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"));
    DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
    channel.writeOutbound(response);
    StringBuilder written = new StringBuilder();
    ByteBuf buf;
    while ((buf = channel.readOutbound()) != null) {
      written.append(buf.toString(StandardCharsets.ISO_8859_1));
      buf.release();
    }
    assertThat(written.toString()).startsWith("HTTP/1.1 200 OK").endsWith("\r\n\r\n").doesNotContain("0\r\n\r\n\r\n");
    assertThat(written.toString()).doesNotEndWith("0\r\n\r\n");
  }
}
