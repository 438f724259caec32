package dev.meridian.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.http1.RawRequest;
import dev.meridian.proxy.http1.ServerHttpCodec;
import dev.meridian.proxy.http1.UpstreamHttpCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The rewriter on both kinds of request head it meets: a head read in place ({@link RawRequest}, the
 * HTTP/1.1 path) and one decoded into Netty's header objects (what HTTP/2 requests become). Each case
 * checks the head's fields case-insensitively, then what {@link UpstreamHttpCodec} writes for it,
 * read back by Netty's decoder.
 */
class RequestHeadRewriterTest {
  private final RequestHeadRewriter rewriter =
      new RequestHeadRewriter(new HeaderSettings("meridian", true, true, "X-Request-Id"));
  private final List<Object> held = new ArrayList<>();

  /** How the head under test was decoded. */
  enum HeadKind {
    IN_PLACE, NETTY_OBJECTS;

    ChannelHandler decoder() {
      return this == IN_PLACE ? new ServerHttpCodec(8192, 32768, 100) : new HttpRequestDecoder(new HttpDecoderConfig());
    }
  }

  @AfterEach
  void release() {
    held.forEach(ReferenceCountUtil::release);
  }

  private HttpRequest request(HeadKind kind, String head) {
    EmbeddedChannel channel = new EmbeddedChannel(kind.decoder());
    channel.writeInbound(Unpooled.copiedBuffer(head + "\r\n", StandardCharsets.ISO_8859_1));
    HttpRequest request = channel.readInbound();
    held.add(request);
    ReferenceCountUtil.release(channel.readInbound());
    channel.finishAndReleaseAll();
    assertThat(request.decoderResult().isSuccess()).as(String.valueOf(request.decoderResult())).isTrue();
    assertThat(request instanceof RawRequest).isEqualTo(kind == HeadKind.IN_PLACE);
    return request;
  }

  /** The request as the upstream codec writes it, read back into name: value lines (names lower-cased). */
  private static List<String> written(HttpRequest request) {
    EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamHttpCodec(8192, 32768));
    upstream.writeOutbound(ReferenceCountUtil.retain(request), LastHttpContent.EMPTY_LAST_CONTENT);
    ByteBuf bytes = Unpooled.buffer();
    ByteBuf part;
    while ((part = upstream.readOutbound()) != null) {
      bytes.writeBytes(part);
      part.release();
    }
    upstream.finishAndReleaseAll();
    EmbeddedChannel reader = new EmbeddedChannel(new HttpRequestDecoder());
    reader.writeInbound(bytes);
    HttpRequest decoded = reader.readInbound();
    List<String> lines = new ArrayList<>();
    lines.add(decoded.method() + " " + decoded.uri() + " " + decoded.protocolVersion());
    for (Map.Entry<String, String> field : decoded.headers()) {
      lines.add(field.getKey().toLowerCase() + ": " + field.getValue());
    }
    reader.finishAndReleaseAll();
    return lines;
  }

  @ParameterizedTest
  @EnumSource(HeadKind.class)
  void hopByHopHeadersGoBeforeTheProxysOwnAreAdded(HeadKind kind) {
    HttpRequest r = request(kind, "GET / HTTP/1.1\r\nHost: shop.example.com\r\n"
        + "Connection: keep-alive, X-Secret, X-Forwarded-For, Content-Length\r\nX-Secret: s\r\n"
        + "Keep-Alive: timeout=5\r\nProxy-Connection: x\r\nTE: trailers\r\nTrailer: X-T\r\n"
        + "Upgrade: h2c\r\nX-Forwarded-For: 10.0.0.1\r\nContent-Length: 0\r\nAccept: */*\r\n");
    rewriter.rewrite(r, "192.0.2.7", "http", "127.0.0.1:9001", false, null);
    for (String gone : List.of("X-Secret", "keep-alive", "Proxy-Connection", "Trailer", "upgrade")) {
      assertThat(r.headers().contains(gone)).as(gone).isFalse();
    }
    // The client's TE: trailers is restated for the backend, with Connection naming it.
    assertThat(r.headers().get("te")).isEqualTo("trailers");
    assertThat(r.headers().get("connection")).isEqualTo("te");
    assertThat(r.headers().get("X-Forwarded-For")).isEqualTo("192.0.2.7");
    assertThat(r.headers().get("Content-Length")).isEqualTo("0");
    assertThat(r.headers().get("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(r.headers().get("X-Forwarded-Host")).isEqualTo("shop.example.com");
    assertThat(r.headers().get("Forwarded")).isEqualTo("for=192.0.2.7;host=\"shop.example.com\";proto=http");
    assertThat(r.headers().get("Via")).isEqualTo("1.1 meridian");
    assertThat(r.headers().get("Host")).isEqualTo("shop.example.com");
    assertThat(written(r)).containsExactlyInAnyOrder("GET / HTTP/1.1", "host: shop.example.com",
        "content-length: 0", "accept: */*", "te: trailers", "connection: te", "x-forwarded-for: 192.0.2.7",
        "x-forwarded-proto: http", "x-forwarded-host: shop.example.com",
        "forwarded: for=192.0.2.7;host=\"shop.example.com\";proto=http", "via: 1.1 meridian");
  }

  @ParameterizedTest
  @EnumSource(HeadKind.class)
  void aConnectionsNextRequestReusesItsForwardedElementOnlyWhileClientHostAndSchemeMatch(HeadKind kind) {
    RequestHeadRewriter.ForwardedMemo memo = new RequestHeadRewriter.ForwardedMemo();
    HttpRequest first = request(kind, "GET /a HTTP/1.1\r\nHost: shop.example.com\r\n");
    HttpRequest second = request(kind, "GET /b HTTP/1.1\r\nHost: shop.example.com\r\n");
    HttpRequest otherHost = request(kind, "GET /c HTTP/1.1\r\nHost: api.example.com\r\n");
    HttpRequest noHost = request(kind, "GET /d HTTP/1.0\r\n");
    HttpRequest otherScheme = request(kind, "GET /e HTTP/1.0\r\n");
    rewriter.rewrite(first, "192.0.2.7", "http", "b:1", false, null, memo);
    rewriter.rewrite(second, "192.0.2.7", "http", "b:1", false, null, memo);
    rewriter.rewrite(otherHost, "192.0.2.7", "http", "b:1", false, null, memo);
    rewriter.rewrite(noHost, "192.0.2.7", "http", "b:1", false, null, memo);
    rewriter.rewrite(otherScheme, "192.0.2.7", "https", "b:1", false, null, memo);
    String element = first.headers().get("Forwarded");
    assertThat(element).isEqualTo("for=192.0.2.7;host=\"shop.example.com\";proto=http");
    assertThat(second.headers().get("Forwarded")).isEqualTo(element);
    assertThat(otherHost.headers().get("Forwarded")).isEqualTo("for=192.0.2.7;host=\"api.example.com\";proto=http");
    assertThat(noHost.headers().get("Forwarded")).isEqualTo("for=192.0.2.7;proto=http");
    assertThat(otherScheme.headers().get("Forwarded")).isEqualTo("for=192.0.2.7;proto=https");
    assertThat(memo.element("192.0.2.7", null, "https")).isSameAs(memo.element("192.0.2.7", null, "https"));
    assertThat(memo.element("192.0.2.8", null, "https")).isEqualTo("for=192.0.2.8;proto=https");
  }

  @ParameterizedTest
  @EnumSource(HeadKind.class)
  void forwardedForIsAppendedAndIpv6Quoted(HeadKind kind) {
    HttpRequest r = request(kind, "GET /a?b HTTP/1.0\r\nHost: shop.example.com\r\nX-Forwarded-For: 10.0.0.1\r\n"
        + "Via: 1.1 edge\r\n");
    rewriter.rewrite(r, "2001:db8::1", "http", "127.0.0.1:9001", true, null);
    assertThat(r.headers().get("X-Forwarded-For")).isEqualTo("10.0.0.1, 2001:db8::1");
    assertThat(r.headers().get("Forwarded")).startsWith("for=\"[2001:db8::1]\"");
    assertThat(r.headers().get("Via")).isEqualTo("1.1 edge, 1.0 meridian");
    assertThat(r.headers().get("Host")).isEqualTo("127.0.0.1:9001");
    assertThat(r.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(written(r)).contains("GET /a?b HTTP/1.1", "host: 127.0.0.1:9001", "via: 1.1 edge, 1.0 meridian")
        .filteredOn(line -> line.startsWith("host:")).hasSize(1);
  }

  @ParameterizedTest
  @EnumSource(HeadKind.class)
  void upgradeIsKeptOnlyWhenUpgrading(HeadKind kind) {
    HttpRequest r = request(kind, "GET /ws HTTP/1.1\r\nHost: shop.example.com\r\nConnection: Upgrade\r\n"
        + "Upgrade: websocket\r\n");
    rewriter.rewrite(r, "127.0.0.1", "http", "b:1", false, "websocket");
    assertThat(r.headers().get("Upgrade")).isEqualTo("websocket");
    assertThat(r.headers().get("Connection")).isEqualTo("upgrade");
    assertThat(written(r)).contains("upgrade: websocket", "connection: upgrade");
  }

  @ParameterizedTest
  @EnumSource(HeadKind.class)
  void chunkedFramingIsRestated(HeadKind kind) {
    HttpRequest r = request(kind, "POST / HTTP/1.1\r\nHost: shop.example.com\r\nTransfer-Encoding: chunked\r\n");
    rewriter.rewrite(r, "127.0.0.1", "http", "b:1", false, null);
    assertThat(r.headers().get("Transfer-Encoding")).isEqualTo("chunked");
    assertThat(written(r)).contains("transfer-encoding: chunked");
  }

  @ParameterizedTest
  @EnumSource(HeadKind.class)
  void requestIdIsKeptWhenWellFormedElseReplaced(HeadKind kind) {
    HttpRequest r = request(kind, "GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc-123\r\n");
    assertThat(rewriter.assignRequestId(r.headers())).isEqualTo("abc-123");
    r.headers().set("X-Request-Id", "has space");
    String generated = rewriter.assignRequestId(r.headers()).toString();
    assertThat(generated).matches("[0-9a-f]{32}");
    assertThat(r.headers().get("X-Request-Id")).isEqualTo(generated);
    r.headers().set("X-Request-Id", "x".repeat(200));
    assertThat(rewriter.assignRequestId(r.headers())).hasSize(32);
    assertThat(written(r)).filteredOn(line -> line.startsWith("x-request-id:")).hasSize(1);
  }
}
