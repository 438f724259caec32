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
      "/a#frag", "/a?b#frag", "/a?#", "relative", "http://user@host/", "", "/a%5cb", "/a%5C..%5Cadmin", "/public/..;/admin",
      "/a/.;x/b", "/a/%2e%2e;jsessionid=1/admin"})
  void shapesThatCouldEscapeARouteAreRefused(String uri) {
    assertThat(RequestTarget.parse(uri, "GET")).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/a/b", "/a..b/c", "/.well-known/x", "/a?x=/../y", "/a%2Eb", "/a%20b", "/a;v=1/b",
      "/..a;b/c"})
  void ordinaryPathsAreAccepted(String uri) {
    assertThat(RequestTarget.parse(uri, "GET")).isNotNull();
  }

  /** RFC 3986 section 6.2.2.2: an encoded unreserved character is the character, to routes and backends. */
  @Test
  void encodedUnreservedCharactersAreDecodedInWhatIsRoutedAndWhatIsForwarded() {
    RequestTarget t = RequestTarget.parse("/%61dmin/%7Euser/x%2D1?q=%61", "GET");
    assertThat(t.path()).isEqualTo("/admin/~user/x-1");
    assertThat(t.originForm()).as("the query is left alone").isEqualTo("/admin/~user/x-1?q=%61");
    // Reserved and non-ASCII escapes stay as they came; an encoded '%' stays encoded, so what
    // follows it is never read as an escape of its own (no double decoding).
    assertThat(RequestTarget.parse("/a%20b/%25%36%31/caf%C3%A9/%3F", "GET").path())
        .isEqualTo("/a%20b/%2561/caf%C3%A9/%3F");
    RequestTarget plain = RequestTarget.parse("/a%2Gb", "GET");
    assertThat(plain.path()).as("not an escape").isEqualTo("/a%2Gb");
  }

  @Test
  void runsOfSlashesAreMergedInWhatIsRoutedAndWhatIsForwarded() {
    RequestTarget t = RequestTarget.parse("//admin///users//?next=//x", "GET");
    assertThat(t.path()).isEqualTo("/admin/users/");
    assertThat(t.originForm()).as("the query is left alone").isEqualTo("/admin/users/?next=//x");
    RequestTarget kept = RequestTarget.parse("//admin", "GET", new PathPolicy(false, PathPolicy.EncodedSlash.REJECT));
    assertThat(kept.path()).isEqualTo("//admin");
    RequestTarget plain = RequestTarget.parse("/a/b?c", "GET");
    assertThat(plain.originForm()).isEqualTo("/a/b?c");
  }

  @Test
  void anEncodedSlashIsRefusedKeptOrDecodedAsThePolicySays() {
    assertThat(RequestTarget.parse("/admin%2Fsecret", "GET")).as("refused by default").isNull();
    assertThat(RequestTarget.parse("/public/a%2fb", "GET")).isNull();
    RequestTarget kept = RequestTarget.parse("/files/a%2Fb", "GET", new PathPolicy(true, PathPolicy.EncodedSlash.KEEP));
    assertThat(kept.path()).isEqualTo("/files/a%2Fb");
    RequestTarget decoded = RequestTarget.parse("/%2fadmin%2F%2Fsecret?q=%2F", "GET",
        new PathPolicy(true, PathPolicy.EncodedSlash.DECODE));
    assertThat(decoded.path()).isEqualTo("/admin/secret");
    assertThat(decoded.originForm()).isEqualTo("/admin/secret?q=%2F");
    assertThat(RequestTarget.parse("/a%2F..%2Fadmin", "GET", new PathPolicy(true, PathPolicy.EncodedSlash.DECODE)))
        .as("decoding cannot make a dot segment slip through").isNull();
    assertThat(RequestTarget.parse("/a%2", "GET")).as("a cut-off escape is no slash").isNotNull();
  }
}
