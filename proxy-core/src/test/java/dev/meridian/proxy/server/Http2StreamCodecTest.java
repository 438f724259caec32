package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meridian.proxy.http1.Http2RequestHeads;
import dev.meridian.proxy.http1.MalformedHeadException;
import dev.meridian.proxy.http1.RawRequest;
import dev.meridian.proxy.http1.RawResponse;
import dev.meridian.proxy.http1.TooManyHeadersException;
import dev.meridian.proxy.http1.UpstreamHttpCodec;
import dev.meridian.proxy.http1.WholeResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client's HTTP/2 stream becomes the in-place HTTP/1.1 forms the forwarding path handles, with the
 * HTTP/1.1 rules and limits, and a response goes back as HEADERS and DATA frames without the fields
 * HTTP/2 forbids.
 */
class Http2StreamCodecTest {
  private final EmbeddedChannel stream = new EmbeddedChannel(new CodecHandler());
  private final List<Object> read = new ArrayList<>();

  /**
   * The codec between the test's frames and messages as a stream's {@link FrontendHandler} uses it:
   * each frame read goes through {@link Http2StreamCodec#read}, each message written through
   * {@link Http2StreamCodec#write}; what the codec hands on is read back from the channel.
   */
  private static final class CodecHandler extends ChannelDuplexHandler implements Http2StreamCodec.Receiver {
    private final Http2StreamCodec codec = new Http2StreamCodec(new Http2RequestHeads(100, 4096, 10), null);
    private ChannelHandlerContext ctx;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Http2Exception {
      codec.read(msg, ctx.alloc(), this);
    }

    @Override
    public void receive(Object msg) {
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      codec.write(ctx, msg, promise);
    }
  }

  @AfterEach
  void release() {
    read.forEach(ReferenceCountUtil::release);
    stream.finishAndReleaseAll();
  }

  private static Http2Headers request(String method, String path) {
    return new DefaultHttp2Headers().method(method).path(path).scheme("https").authority("shop.example:8443");
  }

  /** A request as a decoder that does not check values would pass it on (Netty's may or may not). */
  private static Http2Headers unchecked(String method, String path) {
    return new DefaultHttp2Headers(false).method(method).path(path).scheme("https").authority("shop.example:8443");
  }

  private List<Object> receive(Object... frames) {
    for (Object frame : frames) {
      stream.writeInbound(frame);
    }
    Object msg;
    while ((msg = stream.readInbound()) != null) {
      read.add(msg);
    }
    return read;
  }

  @Test
  void aHeadersFrameThatEndsTheStreamIsAWholeBodilessRequest() {
    Http2Headers headers = request("GET", "/cart?id=7").add("accept", "text/html")
        .add("cookie", "a=1").add("cookie", "b=2");
    receive(new DefaultHttp2HeadersFrame(headers, true));

    assertThat(read).hasSize(2);
    RawRequest head = (RawRequest) read.get(0);
    assertThat(head.method()).isEqualTo(HttpMethod.GET);
    assertThat(head.uri()).isEqualTo("/cart?id=7");
    assertThat(head.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(head.headers().get("Host")).isEqualTo("shop.example:8443");
    assertThat(head.headers().getAll("cookie")).containsExactly("a=1; b=2");
    assertThat(head.headers().get("accept")).isEqualTo("text/html");
    assertThat(head.headers().contains("transfer-encoding")).isFalse();
    assertThat(head.headers().names()).noneMatch(name -> name.startsWith(":"));
    assertThat(read.get(1)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
  }

  @Test
  void aBodyWithoutALengthGoesUpstreamChunkedAndItsDataIsHandedOnUncopied() {
    receive(new DefaultHttp2HeadersFrame(request("POST", "/orders"), false));
    ByteBuf first = Unpooled.copiedBuffer("part1", StandardCharsets.US_ASCII);
    ByteBuf last = Unpooled.copiedBuffer("part2", StandardCharsets.US_ASCII);
    receive(new DefaultHttp2DataFrame(first, false), new DefaultHttp2DataFrame(last, true));

    RawRequest head = (RawRequest) read.get(0);
    assertThat(head.isChunked()).isTrue();
    assertThat(head.headers().get("transfer-encoding")).isEqualTo("chunked");
    assertThat(read.get(1)).isInstanceOf(HttpContent.class).isNotInstanceOf(LastHttpContent.class);
    assertThat(((HttpContent) read.get(1)).content()).isSameAs(first);
    assertThat(read.get(2)).isInstanceOf(LastHttpContent.class);
    assertThat(((HttpContent) read.get(2)).content()).isSameAs(last);
  }

  @Test
  void aBodyWithALengthKeepsIt() {
    receive(new DefaultHttp2HeadersFrame(request("PUT", "/doc").add("content-length", "5"), false));
    RawRequest head = (RawRequest) read.get(0);
    assertThat(head.isChunked()).isFalse();
    assertThat(head.contentLength()).isEqualTo(5);
  }

  @Test
  void aConnectRequestTargetsItsAuthority() {
    Http2Headers connect = new DefaultHttp2Headers().method("CONNECT").authority("db.internal:5432");
    receive(new DefaultHttp2HeadersFrame(connect, false));
    RawRequest head = (RawRequest) read.get(0);
    assertThat(head.method()).isEqualTo(HttpMethod.CONNECT);
    assertThat(head.uri()).isEqualTo("db.internal:5432");
  }

  @Test
  void aHeaderBlockThatBreaksAnHttp11RuleIsARefusedRequest() {
    assertThat(refusal(unchecked("GET", "/").add("x-bad", "a\r\nx-injected: 1")))
        .isInstanceOf(MalformedHeadException.class);
    assertThat(refusal(unchecked("GET", "/").add("x-nul", "a\0b"))).isInstanceOf(MalformedHeadException.class);
    // Line breaks in the path or a name would make lines of their own in the HTTP/1.1 head.
    assertThat(refusal(unchecked("GET", "/a HTTP/1.1\r\nx-injected: 1\r\nx-rest:")))
        .isInstanceOf(MalformedHeadException.class);
    assertThat(refusal(unchecked("GET", "/a b"))).isInstanceOf(MalformedHeadException.class);
    assertThat(refusal(unchecked("GET", "/").add("x-a: 1\r\nx-injected", "2")))
        .isInstanceOf(MalformedHeadException.class);
    assertThat(refusal(unchecked("GET\r\nX", "/"))).isInstanceOf(MalformedHeadException.class);
    assertThat(refusal(request("GET", "/").add("host", "other.example")))
        .isInstanceOf(MalformedHeadException.class).hasMessageContaining(":authority");
    assertThat(refusal(request("GET", "/" + "p".repeat(200)))).isInstanceOf(TooLongHttpLineException.class);
    Http2Headers many = request("GET", "/");
    for (int i = 0; i < 11; i++) {
      many.add("x-field-" + i, "v");
    }
    assertThat(refusal(many)).isInstanceOf(TooManyHeadersException.class);
  }

  @Test
  void aPathThatIsNotAnAbsolutePathIsRefusedRatherThanRoutedByTheHostItNames() {
    // As an HTTP/1.1 absolute-form target, its authority would replace :authority as the Host.
    assertThat(refusal(request("GET", "http://admin.internal/secret")))
        .isInstanceOf(MalformedHeadException.class).hasMessageContaining(":path");
    assertThat(refusal(request("GET", "admin.internal:80"))).isInstanceOf(MalformedHeadException.class);
    assertThat(refusal(unchecked("GET", ""))).isInstanceOf(MalformedHeadException.class);

    receive(new DefaultHttp2HeadersFrame(request("OPTIONS", "*"), true));
    assertThat(((RawRequest) read.get(0)).uri()).isEqualTo("*");
  }

  /** Extended CONNECT (RFC 8441) is not offered, so a :protocol makes a request malformed. */
  @Test
  void aProtocolPseudoHeaderIsRefused() {
    Http2Headers headers = unchecked("GET", "/chat");
    headers.set(":protocol", "websocket");
    assertThat(refusal(headers)).isInstanceOf(MalformedHeadException.class).hasMessageContaining(":protocol");
  }

  @Test
  void aValueThatStartsOrEndsWithWhitespaceIsRefusedNotForwardedTrimmed() {
    // RFC 9113 section 8.2.1: the request is malformed; HTTP/1.1 would read the value trimmed.
    assertThat(refusal(unchecked("GET", "/").add("x-a", " padded"))).isInstanceOf(MalformedHeadException.class)
        .hasMessageContaining("whitespace");
    assertThat(refusal(unchecked("GET", "/").add("x-a", "padded\t"))).isInstanceOf(MalformedHeadException.class);
    assertThat(refusal(unchecked("GET", "/").add("cookie", "a=1 "))).isInstanceOf(MalformedHeadException.class);
    assertThat(refusal(new DefaultHttp2Headers(false).method("GET").path("/").scheme("http").authority("shop.example ")))
        .isInstanceOf(MalformedHeadException.class);
    // :scheme is not written upstream, but a request with a malformed one is malformed.
    assertThat(refusal(new DefaultHttp2Headers(false).method("GET").path("/").scheme("http ").authority("shop.example")))
        .isInstanceOf(MalformedHeadException.class).hasMessageContaining(":scheme");
    for (String scheme : List.of("", "1http", "ht tp", "http:", "ht/tp", "h\u00e9")) {
      assertThat(refusal(new DefaultHttp2Headers(false).method("GET").path("/").scheme(scheme).authority("a.example")))
          .as(scheme).isInstanceOf(MalformedHeadException.class).hasMessageContaining(":scheme");
    }
    for (String scheme : List.of("https", "HTTP", "coap+tcp", "web.a-1")) {
      EmbeddedChannel fresh = new EmbeddedChannel(new CodecHandler());
      fresh.writeInbound(new DefaultHttp2HeadersFrame(
          new DefaultHttp2Headers(false).method("GET").path("/").scheme(scheme).authority("a.example"), true));
      HttpRequest accepted = fresh.readInbound();
      assertThat(accepted.decoderResult().isSuccess()).as(scheme).isTrue();
      fresh.finishAndReleaseAll();
    }

    receive(new DefaultHttp2HeadersFrame(request("POST", "/grpc"), false));
    assertThatThrownBy(() -> stream.writeInbound(
        new DefaultHttp2HeadersFrame(new DefaultHttp2Headers(false).add("grpc-message", "done "), true)))
        .isInstanceOfSatisfying(Http2Exception.class, e -> assertThat(e.error()).isEqualTo(Http2Error.PROTOCOL_ERROR));
  }

  @Test
  void aHostThatMatchesTheAuthorityIsKeptOnce() {
    receive(new DefaultHttp2HeadersFrame(request("GET", "/").add("host", "shop.example:8443"), true));
    assertThat(((RawRequest) read.get(0)).headers().getAll("host")).containsExactly("shop.example:8443");
  }

  private Throwable refusal(Http2Headers headers) {
    EmbeddedChannel fresh = new EmbeddedChannel(new CodecHandler());
    fresh.writeInbound(new DefaultHttp2HeadersFrame(headers, true));
    HttpRequest refused = fresh.readInbound();
    assertThat((Object) fresh.readInbound()).as("the end of the refused request").isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    fresh.finishAndReleaseAll();
    assertThat(refused.decoderResult().isFailure()).isTrue();
    return refused.decoderResult().cause();
  }

  @Test
  void theStreamsOfAConnectionShareOneHeadReaderAndARefusedHeadLeavesNothingForTheNext() {
    Http2RequestHeads shared = new Http2RequestHeads(100, 4096, 10);
    Http2Headers tooMany = request("GET", "/refused");
    for (int i = 0; i < 12; i++) {
      tooMany.add("x-field-" + i, "v");
    }
    assertThatThrownBy(() -> shared.read(tooMany, false, UnpooledByteBufAllocator.DEFAULT))
        .isInstanceOf(TooManyHeadersException.class);
    RawRequest next = shared.read(request("GET", "/next").add("x-next", "1"), false, UnpooledByteBufAllocator.DEFAULT);
    read.add(next);
    assertThat(next.uri()).isEqualTo("/next");
    assertThat(next.headers().names()).containsExactlyInAnyOrder("x-next", "host");
    assertThat(next.headers().get("host")).isEqualTo("shop.example:8443");
  }

  @Test
  void aLaterHeadersFrameCarriesTheTrailers() {
    receive(new DefaultHttp2HeadersFrame(request("POST", "/grpc"), false),
        new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), true));
    LastHttpContent end = (LastHttpContent) read.get(1);
    assertThat(end.content().isReadable()).isFalse();
    assertThat(end.trailingHeaders().get("grpc-status")).isEqualTo("0");
  }

  @Test
  void trailersThatDoNotEndTheStreamCarryControlBytesOrPseudoHeadersResetIt() {
    receive(new DefaultHttp2HeadersFrame(request("POST", "/grpc"), false));
    assertThatThrownBy(() -> stream.writeInbound(
        new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), false)))
        .isInstanceOfSatisfying(Http2Exception.class, e -> assertThat(e.error()).isEqualTo(Http2Error.PROTOCOL_ERROR));
    assertThatThrownBy(() -> stream.writeInbound(
        new DefaultHttp2HeadersFrame(new DefaultHttp2Headers(false).add("x-t", "a\nb"), true)))
        .isInstanceOfSatisfying(Http2Exception.class, e -> assertThat(e.error()).isEqualTo(Http2Error.PROTOCOL_ERROR));
    assertThatThrownBy(() -> stream.writeInbound(
        new DefaultHttp2HeadersFrame(new DefaultHttp2Headers(false).add(":path", "/again"), true)))
        .isInstanceOfSatisfying(Http2Exception.class, e -> assertThat(e.error()).isEqualTo(Http2Error.PROTOCOL_ERROR));
  }

  @Test
  void otherFramesPassThroughBothWays() {
    DefaultHttp2ResetFrame reset = new DefaultHttp2ResetFrame(Http2Error.CANCEL);
    receive(reset);
    assertThat(read).containsExactly(reset);
    read.clear();
    stream.writeOutbound(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
    assertThat((Object) stream.readOutbound()).isInstanceOf(DefaultHttp2ResetFrame.class);
  }

  // ---- responses ---------------------------------------------------------------------------

  /** A backend's response as the upstream codec reads it in place. */
  private static Object backendResponse(String response) {
    EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamHttpCodec(8192, 65536));
    upstream.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
    ReferenceCountUtil.release(upstream.readOutbound());
    upstream.writeInbound(Unpooled.copiedBuffer(response, StandardCharsets.ISO_8859_1));
    Object head = upstream.readInbound();
    upstream.finishAndReleaseAll();
    return head;
  }

  private List<Object> written() {
    List<Object> frames = new ArrayList<>();
    Object frame;
    while ((frame = stream.readOutbound()) != null) {
      frames.add(frame);
    }
    read.addAll(frames);
    return frames;
  }

  @Test
  void aResponseReadInPlaceGoesOutAsLowerCaseFieldsWithoutConnectionSpecificOnes() {
    Object whole = backendResponse("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Mixed-Case: Yes\r\n"
        + "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nKeep-Alive: timeout=5\r\nContent-Length: 5\r\n\r\nhello");
    assertThat(whole).isInstanceOf(WholeResponse.class);
    ((WholeResponse) whole).headers().add("Via", "1.1 meridian");
    stream.writeOutbound(whole);

    List<Object> frames = written();
    assertThat(frames).hasSize(2);
    Http2HeadersFrame head = (Http2HeadersFrame) frames.get(0);
    assertThat(head.isEndStream()).isFalse();
    Http2Headers fields = head.headers();
    assertThat(fields.status().toString()).isEqualTo("201");
    assertThat(fields.get("content-type").toString()).isEqualTo("text/plain");
    assertThat(fields.get("x-mixed-case").toString()).isEqualTo("Yes");
    assertThat(fields.getAll("set-cookie")).extracting(CharSequence::toString).containsExactly("a=1", "b=2");
    assertThat(fields.get("via").toString()).isEqualTo("1.1 meridian");
    assertThat(fields.contains("keep-alive")).isFalse();
    fields.names().forEach(name -> assertThat(name.toString()).isEqualTo(name.toString().toLowerCase()));
    Http2DataFrame body = (Http2DataFrame) frames.get(1);
    assertThat(body.isEndStream()).isTrue();
    assertThat(body.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
  }

  @Test
  void aStreamedResponseEndsWithAnEmptyDataFrameOrItsTrailers() {
    Object head = backendResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: x-hop\r\n\r\n");
    assertThat(head).isInstanceOf(RawResponse.class);
    stream.writeOutbound(head);
    stream.writeOutbound(new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)));
    stream.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
    List<Object> frames = written();
    Http2Headers fields = ((Http2HeadersFrame) frames.get(0)).headers();
    assertThat(fields.contains("transfer-encoding")).isFalse();
    assertThat(fields.contains("connection")).isFalse();
    assertThat(((Http2DataFrame) frames.get(1)).isEndStream()).isFalse();
    assertThat(((Http2DataFrame) frames.get(2)).isEndStream()).isTrue();
    assertThat(((Http2DataFrame) frames.get(2)).content().isReadable()).isFalse();

    LastHttpContent withTrailers = new DefaultLastHttpContent(Unpooled.copiedBuffer("z", StandardCharsets.US_ASCII));
    withTrailers.trailingHeaders().add("Grpc-Status", "0");
    stream.writeOutbound(withTrailers);
    frames = written();
    assertThat(((Http2DataFrame) frames.get(0)).isEndStream()).isFalse();
    Http2HeadersFrame trailers = (Http2HeadersFrame) frames.get(1);
    assertThat(trailers.isEndStream()).isTrue();
    assertThat(trailers.headers().get("grpc-status").toString()).isEqualTo("0");
  }

  @Test
  void anEmptyLocalAnswerIsOneHeadersFrameAndAContinueLeavesTheStreamOpen() {
    DefaultFullHttpResponse empty = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
    empty.headers().set("Connection", "close");
    stream.writeOutbound(empty);
    DefaultFullHttpResponse proceed = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE);
    stream.writeOutbound(proceed);
    List<Object> frames = written();
    assertThat(frames).hasSize(2);
    Http2HeadersFrame noContent = (Http2HeadersFrame) frames.get(0);
    assertThat(noContent.isEndStream()).isTrue();
    assertThat(noContent.headers().contains("connection")).isFalse();
    Http2HeadersFrame continued = (Http2HeadersFrame) frames.get(1);
    assertThat(continued.headers().status().toString()).isEqualTo("100");
    assertThat(continued.isEndStream()).isFalse();
  }

  @Test
  void aWholeResponseWrittenWithAPromiseCompletesItOnceBothFramesAreWritten() {
    Object whole = backendResponse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    var future = stream.writeAndFlush(whole);
    assertThat(future.isSuccess()).isTrue();
    assertThat(written()).hasSize(2);
  }
}
