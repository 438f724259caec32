package dev.meridian.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class RequestTargetTest {

  @Test
  void originFormKeepsTheQueryOutOfThePath() {
    RequestTarget t = RequestTarget.parse("/api/items?id=3", "GET");
    assertThat(t.path()).isEqualTo("/api/items");
    assertThat(t.originForm()).isEqualTo("/api/items?id=3");
    assertThat(t.authority()).isNull();
  }

  @Test
  void absoluteFormGivesAuthorityAndOriginForm() {
    RequestTarget t = RequestTarget.parse("http://Shop.example.com:8080/cart?x=1", "GET");
    assertThat(t.authority()).isEqualTo("Shop.example.com:8080");
    assertThat(t.originForm()).isEqualTo("/cart?x=1");
    assertThat(RequestTarget.parse("http://example.com", "GET").originForm()).isEqualTo("/");
    assertThat(RequestTarget.parse("http://example.com?q", "GET").originForm()).isEqualTo("/?q");
  }

  @Test
  void asteriskOnlyForOptions() {
    assertThat(RequestTarget.parse("*", "OPTIONS")).isNotNull();
    assertThat(RequestTarget.parse("*", "GET")).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a/../admin", "/..", "/a/./b", "/a/%2e%2e/admin", "/a/%2E./b", "/a\\b",
      "/a#frag", "relative", "http://user@host/", ""})
  void shapesThatCouldEscapeARouteAreRefused(String uri) {
    assertThat(RequestTarget.parse(uri, "GET")).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/a/b", "/a..b/c", "/.well-known/x", "/a/%2F/b", "/a?x=/../y"})
  void ordinaryPathsAreAccepted(String uri) {
    assertThat(RequestTarget.parse(uri, "GET")).isNotNull();
  }
}
