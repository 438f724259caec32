package dev.meridian.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.meridian.proxy.routing.CachePolicy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code meridian.cache} and {@code routes[].cache} as the configuration check reads them. */
class CacheConfigTest {
  private static String config(String cache, String global) {
    return "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + global
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:9001\" } ] } }\n"
        + "  routes = [ { backend-group = app\n"
        + "    cache { " + cache + " } } ]\n"
        + "}\n";
  }

  @Test
  void anEmptyCacheObjectGetsEveryDocumentedDefault() throws Exception {
    MeridianSettings s = SettingsLoader.parse(config("", ""), "test.conf");
    CachePolicy p = s.routes().get(0).cache().orElseThrow();
    assertThat(p.ttl()).isEqualTo(Duration.ofMinutes(5));
    assertThat(p.honorOrigin()).isTrue();
    assertThat(p.staleIfError()).isZero();
    assertThat(p.staleWhileRevalidate()).isZero();
    assertThat(p.keyHeaders()).isEmpty();
    assertThat(p.keyQuery()).isEqualTo(CachePolicy.KeyQuery.ALL);
    assertThat(p.authenticated()).isEqualTo(CachePolicy.Authenticated.BYPASS);
    assertThat(p.cacheableStatus()).containsExactlyInAnyOrder(200, 203, 204, 301, 404, 410);
    assertThat(s.cache().maxSize()).isEqualTo(256L * 1024 * 1024);
    assertThat(s.cache().maxObjectSize()).isEqualTo(8 * 1024 * 1024);
  }

  @Test
  void everyKeyIsRead() throws Exception {
    MeridianSettings s = SettingsLoader.parse(config("ttl = 0, honor-origin = false, stale-if-error = 10m,"
        + " stale-while-revalidate = 30s,"
        + " key-headers = [Accept-Language], key-query = none, authenticated = cache-public-only,"
        + " cacheable-status = [200, 404]", "  cache { max-size = 4GiB, max-object-size = 1MiB }\n"), "test.conf");
    CachePolicy p = s.routes().get(0).cache().orElseThrow();
    assertThat(p.ttl()).isZero();
    assertThat(p.honorOrigin()).isFalse();
    assertThat(p.staleIfError()).isEqualTo(Duration.ofMinutes(10));
    assertThat(p.staleWhileRevalidate()).isEqualTo(Duration.ofSeconds(30));
    assertThat(p.keyHeaders()).containsExactly("accept-language");
    assertThat(p.keyQuery()).isEqualTo(CachePolicy.KeyQuery.NONE);
    assertThat(p.authenticated()).isEqualTo(CachePolicy.Authenticated.CACHE_PUBLIC_ONLY);
    assertThat(p.cacheableStatus()).containsExactlyInAnyOrder(200, 404);
    assertThat(s.cache().maxSize()).isEqualTo(4L * 1024 * 1024 * 1024);
    assertThat(SettingsLoader.parse(config("key-query = [v, lang]", ""), "t").routes().get(0).cache().orElseThrow()
        .keyQueryNames()).containsExactlyInAnyOrder("v", "lang");
  }

  @Test
  void everyProblemIsReportedAtOnceWithItsLineAndKey() {
    String hocon = "meridian {\n"
        + "  listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "  cache { max-size = 1MiB, max-object-size = 2MiB }\n"
        + "  backend-groups { app { backends = [ { address = \"127.0.0.1:9001\" } ] } }\n"
        + "  routes = [ { backend-group = app, cache {\n"
        + "    ttl = -1s\n"
        + "    key-query = some\n"
        + "    authenticated = always\n"
        + "    cacheable-status = [200, 206, 99, teapot]\n"
        + "    key-headers = [\"bad header\"]\n"
        + "    stale-while-revalidat = 30s\n"
        + "    targeted-fields = [\"CDN Cache Control\"]\n"
        + "  } } ]\n"
        + "}\n";
    InvalidConfigException e = catchThrowableOfType(() -> SettingsLoader.parse(hocon, "test.conf"),
        InvalidConfigException.class);
    List<String> problems = e.problems().stream().map(p -> p.line() + " " + p.key()).toList();
    assertThat(problems).contains("3 meridian.cache.max-object-size", "6 meridian.routes[0].cache.ttl",
        "7 meridian.routes[0].cache.key-query", "8 meridian.routes[0].cache.authenticated",
        "9 meridian.routes[0].cache.cacheable-status", "10 meridian.routes[0].cache.key-headers",
        "11 meridian.routes[0].cache.stale-while-revalidat", "12 meridian.routes[0].cache.targeted-fields");
    assertThat(e.problems()).allSatisfy(p -> assertThat(p.message()).contains("expected"));
    assertThat(e.problems().stream().filter(p -> p.key().endsWith("cacheable-status"))).hasSize(3);
  }
}
