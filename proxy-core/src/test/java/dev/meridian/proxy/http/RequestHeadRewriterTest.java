package dev.meridian.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.config.MeridianSettings.HeaderSettings;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class RequestHeadRewriterTest {
  private final RequestHeadRewriter rewriter =
      new RequestHeadRewriter(new HeaderSettings("meridian", true, true, "X-Request-Id"));

  private static HttpRequest request(HttpVersion version) {
    HttpRequest r = new DefaultHttpRequest(version, HttpMethod.GET, "/");
    r.headers().set("Host", "shop.example.com");
    return r;
  }

  @Test
  void hopByHopHeadersGoBeforeTheProxysOwnAreAdded() {
    HttpRequest r = request(HttpVersion.HTTP_1_1);
    r.headers().add("Connection", "keep-alive, X-Secret, X-Forwarded-For, Content-Length")
        .add("X-Secret", "s").add("Keep-Alive", "timeout=5").add("Proxy-Connection", "x").add("TE", "trailers")
        .add("Trailer", "X-T").add("Upgrade", "h2c").add("X-Forwarded-For", "10.0.0.1").add("Content-Length", "0");
    rewriter.rewrite(r, "192.0.2.7", "http", "127.0.0.1:9001", false, null);
    assertThat(r.headers().names()).doesNotContain("Connection", "X-Secret", "Keep-Alive", "Proxy-Connection",
        "TE", "Trailer", "Upgrade");
    assertThat(r.headers().get("X-Forwarded-For")).isEqualTo("192.0.2.7");
    assertThat(r.headers().get("Content-Length")).isEqualTo("0");
    assertThat(r.headers().get("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(r.headers().get("X-Forwarded-Host")).isEqualTo("shop.example.com");
    assertThat(r.headers().get("Forwarded")).isEqualTo("for=192.0.2.7;host=\"shop.example.com\";proto=http");
    assertThat(r.headers().get("Via")).isEqualTo("1.1 meridian");
    assertThat(r.headers().get("Host")).isEqualTo("shop.example.com");
  }

  @Test
  void forwardedForIsAppendedAndIpv6Quoted() {
    HttpRequest r = request(HttpVersion.HTTP_1_0);
    r.headers().add("X-Forwarded-For", "10.0.0.1").add("Via", "1.1 edge");
    rewriter.rewrite(r, "2001:db8::1", "http", "127.0.0.1:9001", true, null);
    assertThat(r.headers().get("X-Forwarded-For")).isEqualTo("10.0.0.1, 2001:db8::1");
    assertThat(r.headers().get("Forwarded")).startsWith("for=\"[2001:db8::1]\"");
    assertThat(r.headers().get("Via")).isEqualTo("1.1 edge, 1.0 meridian");
    assertThat(r.headers().get("Host")).isEqualTo("127.0.0.1:9001");
    assertThat(r.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
  }

  @Test
  void upgradeIsKeptOnlyWhenUpgrading() {
    HttpRequest r = request(HttpVersion.HTTP_1_1);
    r.headers().add("Connection", "Upgrade").add("Upgrade", "websocket");
    rewriter.rewrite(r, "127.0.0.1", "http", "b:1", false, "websocket");
    assertThat(r.headers().get("Upgrade")).isEqualTo("websocket");
    assertThat(r.headers().get("Connection")).isEqualTo("upgrade");
  }

  @Test
  void chunkedFramingIsRestated() {
    HttpRequest r = request(HttpVersion.HTTP_1_1);
    r.headers().add("Transfer-Encoding", "chunked");
    rewriter.rewrite(r, "127.0.0.1", "http", "b:1", false, null);
    assertThat(r.headers().get("Transfer-Encoding")).isEqualTo("chunked");
  }

  @Test
  void requestIdIsKeptWhenWellFormedElseReplaced() {
    HttpRequest r = request(HttpVersion.HTTP_1_1);
    r.headers().set("X-Request-Id", "abc-123");
    assertThat(rewriter.assignRequestId(r.headers())).isEqualTo("abc-123");
    r.headers().set("X-Request-Id", "has space");
    String generated = rewriter.assignRequestId(r.headers());
    assertThat(generated).matches("[0-9a-f]{32}");
    assertThat(r.headers().get("X-Request-Id")).isEqualTo(generated);
    r.headers().set("X-Request-Id", "x".repeat(200));
    assertThat(rewriter.assignRequestId(r.headers())).hasSize(32);
  }
}
