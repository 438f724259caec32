package dev.meridian.proxy.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.routing.CachePolicy;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What goes into a cache key, and what never does. */
class CacheKeysTest {
  private static CachePolicy policy(CachePolicy.KeyQuery query, Set<String> names, List<String> keyHeaders) {
    return new CachePolicy(Duration.ofMinutes(5), true, Duration.ZERO, Duration.ZERO, keyHeaders, query, names,
        CachePolicy.Authenticated.BYPASS, Set.of(200), List.of());
  }

  private static final CachePolicy ALL = policy(CachePolicy.KeyQuery.ALL, Set.of(), List.of());
  private static final HttpHeaders NONE = new DefaultHttpHeaders();

  @Test
  void theRouteSchemeHostPathAndQueryAreInTheKey() {
    String key = CacheKeys.key(ALL, "static", "https", "a.test", "/x?v=1", NONE);
    assertThat(CacheKeys.key(ALL, "other", "https", "a.test", "/x?v=1", NONE)).isNotEqualTo(key);
    assertThat(CacheKeys.key(ALL, "static", "http", "a.test", "/x?v=1", NONE)).isNotEqualTo(key);
    assertThat(CacheKeys.key(ALL, "static", "https", "b.test", "/x?v=1", NONE)).isNotEqualTo(key);
    assertThat(CacheKeys.key(ALL, "static", "https", "a.test", "/y?v=1", NONE)).isNotEqualTo(key);
    assertThat(CacheKeys.key(ALL, "static", "https", "a.test", "/x?v=2", NONE)).isNotEqualTo(key);
    assertThat(CacheKeys.key(ALL, "static", "https", "a.test", "/x?v=1", NONE)).isEqualTo(key);
  }

  @Test
  void aPartOfOneFieldCannotPassForAnotherFieldsPart() {
    assertThat(CacheKeys.key(ALL, "r", "https", "a.test", "/x", NONE))
        .isNotEqualTo(CacheKeys.key(ALL, "r", "https", "a.tes", "t/x", NONE));
  }

  @Test
  void theQueryIsKeptWholeDroppedOrReducedToTheListedParameters() {
    CachePolicy none = policy(CachePolicy.KeyQuery.NONE, Set.of(), List.of());
    assertThat(CacheKeys.key(none, "r", "http", "h", "/x?a=1", NONE)).isEqualTo(CacheKeys.key(none, "r", "http", "h", "/x?a=2", NONE));
    CachePolicy listed = policy(CachePolicy.KeyQuery.LISTED, Set.of("v"), List.of());
    assertThat(CacheKeys.key(listed, "r", "http", "h", "/x?utm=1&v=3", NONE))
        .isEqualTo(CacheKeys.key(listed, "r", "http", "h", "/x?v=3&utm=2", NONE))
        .isNotEqualTo(CacheKeys.key(listed, "r", "http", "h", "/x?v=4", NONE));
  }

  /**
   * A listed parameter spelled another way ({@code %61} for {@code a}, upper case, PHP's {@code a[]}
   * and {@code a.b}, or hidden after a {@code ;}, which Rack 2 and older Pythons split on) is read by
   * backends as the listed one: it is in the key, so a request cannot store a variant under another
   * request's key.
   */
  @Test
  void aListedParameterSpelledAnotherWayIsInTheKeyToo() {
    CachePolicy listed = policy(CachePolicy.KeyQuery.LISTED, Set.of("a", "sort_by"), List.of());
    String plain = CacheKeys.key(listed, "r", "http", "h", "/x?a=2", NONE);
    for (String poisoned : List.of("/x?a=2&%61=evil", "/x?a=2&A=evil", "/x?a=2&a[]=evil", "/x?a=2&%41=evil",
        "/x?a=2&+a=evil", "/x?a=2&%20a=evil", "/x?a=2&utm=x;a=evil", "/x?a=2;a=evil")) {
      assertThat(CacheKeys.key(listed, "r", "http", "h", poisoned, NONE)).as(poisoned).isNotEqualTo(plain);
    }
    assertThat(CacheKeys.key(listed, "r", "http", "h", "/x?sort.by=evil", NONE))
        .isNotEqualTo(CacheKeys.key(listed, "r", "http", "h", "/x", NONE));
    assertThat(CacheKeys.key(listed, "r", "http", "h", "/x?a=2&utm=1", NONE)).as("others stay out").isEqualTo(plain);
    assertThat(CacheKeys.key(listed, "r", "http", "h", "/x?a=2;utm=1", NONE))
        .as("most backends read a as \"2;utm=1\": its own entry").isNotEqualTo(plain);
    assertThat(CacheKeys.key(listed, "r", "http", "h", "/x?a=2&utm=1;x=2", NONE)).as("no listed name after the ;")
        .isEqualTo(plain);
    assertThat(CacheKeys.asBackendsRead("%61+b.c[0]")).isEqualTo("a_b_c");
    assertThat(CacheKeys.asBackendsRead("sort[by")).as("an unclosed [ is PHP's _").isEqualTo("sort_by");
    assertThat(CacheKeys.key(listed, "r", "http", "h", "/x?sort[by=evil", NONE))
        .isNotEqualTo(CacheKeys.key(listed, "r", "http", "h", "/x", NONE));
    assertThat(CacheKeys.asBackendsRead("%zz%4")).as("broken escapes stay").isEqualTo("%zz%4");
  }

  @Test
  void onlyTheKeyHeadersOfTheRouteChangeTheKey() {
    CachePolicy lang = policy(CachePolicy.KeyQuery.ALL, Set.of(), List.of("accept-language"));
    HttpHeaders de = new DefaultHttpHeaders().add("Accept-Language", "de").add("X-Api-Version", "evil");
    HttpHeaders fr = new DefaultHttpHeaders().add("Accept-Language", "fr");
    HttpHeaders deOnly = new DefaultHttpHeaders().add("Accept-Language", "de");
    assertThat(CacheKeys.key(lang, "r", "http", "h", "/", de)).isNotEqualTo(CacheKeys.key(lang, "r", "http", "h", "/", fr))
        .isEqualTo(CacheKeys.key(lang, "r", "http", "h", "/", deOnly));
  }

  /**
   * An X-Forwarded-Host that reaches the key is a trusted proxy's (a client's is dropped at
   * admission) and reaches the origin too: it is keyed, in any case.
   */
  @Test
  void aTrustedProxysForwardedHostIsKeyed() {
    CachePolicy all = policy(CachePolicy.KeyQuery.ALL, Set.of(), List.of());
    String shop = CacheKeys.key(all, "r", "https", "h", "/", new DefaultHttpHeaders().add("X-Forwarded-Host", "shop.test"));
    assertThat(shop).isNotEqualTo(CacheKeys.key(all, "r", "https", "h", "/", new DefaultHttpHeaders()))
        .isNotEqualTo(CacheKeys.key(all, "r", "https", "h", "/", new DefaultHttpHeaders().add("X-Forwarded-Host", "evil.test")))
        .isEqualTo(CacheKeys.key(all, "r", "https", "h", "/", new DefaultHttpHeaders().add("X-Forwarded-Host", "SHOP.test")));
  }

  /** RFC 9111 section 4.1: a field absent from a request matches only a request without it. */
  @Test
  void aFieldSentEmptyIsKeyedAndVariedApartFromOneNotSent() {
    CachePolicy lang = policy(CachePolicy.KeyQuery.ALL, Set.of(), List.of("accept-language"));
    HttpHeaders empty = new DefaultHttpHeaders().add("Accept-Language", "");
    HttpHeaders absent = new DefaultHttpHeaders();
    assertThat(CacheKeys.key(lang, "r", "http", "h", "/", empty))
        .isNotEqualTo(CacheKeys.key(lang, "r", "http", "h", "/", absent));
    List<String> names = List.of("accept-language");
    assertThat(EdgeCache.varyValues(names, empty)).isNotEqualTo(EdgeCache.varyValues(names, absent));
    assertThat(EdgeCache.varyValues(names, absent)).isEqualTo(EdgeCache.varyValues(names, new DefaultHttpHeaders()));
  }

  @Test
  void hostsAreLowerCasedWithoutTheDefaultPortOrATrailingDot() {
    assertThat(CacheKeys.host("WWW.Example.COM.", "http")).isEqualTo("www.example.com");
    assertThat(CacheKeys.host("a.test:443", "https")).isEqualTo("a.test");
    assertThat(CacheKeys.host("a.test:80", "https")).isEqualTo("a.test:80");
    assertThat(CacheKeys.host("a.test:", "http")).isEqualTo("a.test");
  }

  @Test
  void aPortIsKeyedAsItsNumberAndATrailingDotBeforeItGoes() {
    assertThat(CacheKeys.host("a.test:0080", "http")).isEqualTo("a.test");
    assertThat(CacheKeys.host("A.test.:08080", "http")).isEqualTo("a.test:8080");
    assertThat(CacheKeys.host("a.test:0", "http")).isEqualTo("a.test:0");
    assertThat(CacheKeys.host("a.test:000", "http")).isEqualTo("a.test:0");
    assertThat(CacheKeys.host("[::1]:0443", "https")).isEqualTo("[::1]");
    assertThat(CacheKeys.host("[::1]:8443", "https")).isEqualTo("[::1]:8443");
    assertThat(CacheKeys.host("[::1]", "https")).isEqualTo("[::1]");
    assertThat(CacheKeys.url("https", "a.test", "/x?y=1")).isEqualTo("https://a.test/x?y=1");
  }
}
