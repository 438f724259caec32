package dev.meridian.proxy.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.routing.CachePolicy;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9111's storage and freshness rules as {@link Freshness} applies them, on fixed times. */
class FreshnessTest {
  private static final long NOW = 1_796_000_000_000L;
  private static final CachePolicy POLICY = policy(Duration.ofMinutes(5), true);

  private static CachePolicy policy(Duration ttl, boolean honorOrigin) {
    return new CachePolicy(ttl, honorOrigin, Duration.ZERO, Duration.ZERO, List.of(), CachePolicy.KeyQuery.ALL, Set.of(),
        CachePolicy.Authenticated.BYPASS, Set.of(200, 203, 204, 301, 404, 410), List.of("cdn-cache-control"));
  }

  private static HttpHeaders headers(String... pairs) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (int i = 0; i < pairs.length; i += 2) {
      h.add(pairs[i], pairs[i + 1]);
    }
    return h;
  }

  private static String date(long offsetSeconds) {
    return DateFormatter.format(new Date(NOW + offsetSeconds * 1000));
  }

  @ParameterizedTest(name = "{0}: {1}s fresh, {2}s old")
  @CsvSource(delimiter = '|', value = {
      "Cache-Control=s-maxage=10, max-age=100 | 10 | 0",
      "Cache-Control=max-age=20 | 20 | 0",
      "Cache-Control=max-age=20;Age=15 | 20 | 15",
      "Cache-Control=max-age=30, max-age=10 | 10 | 0",
      "Cache-Control=\"max-age=7\" | 300 | 0",
      "Expires=+40 | 40 | 0",
      "Expires=+40;Date=-10 | 50 | 10",
      "(nothing) | 300 | 0"})
  void lifetimeAndAgeFollowTheOriginThenTheTtl(String spec, long lifetime, long age) {
    HttpHeaders h = new DefaultHttpHeaders();
    h.set("Date", date(0));
    if (!spec.equals("(nothing)")) {
      for (String pair : spec.split(";")) {
        String name = pair.substring(0, pair.indexOf('='));
        String value = pair.substring(pair.indexOf('=') + 1);
        h.set(name, value.startsWith("+") || value.startsWith("-") ? date(Long.parseLong(value)) : value);
      }
    }
    Freshness.Verdict v = Freshness.judge(POLICY, 200, h, false, NOW);
    assertThat(v.storable()).isTrue();
    assertThat(v.lifetimeSeconds()).isEqualTo(lifetime);
    assertThat(v.initialAgeSeconds()).isEqualTo(age);
  }

  @Test
  void withoutHonorOriginTheTtlIsTheLifetimeAndNoStoreStillHolds() {
    Freshness.Verdict v = Freshness.judge(policy(Duration.ofSeconds(60), false), 200,
        headers("Cache-Control", "max-age=5", "Age", "100"), false, NOW);
    assertThat(v.lifetimeSeconds()).isEqualTo(60);
    assertThat(v.initialAgeSeconds()).isZero();
    assertThat(Freshness.judge(policy(Duration.ofSeconds(60), false), 200, headers("Cache-Control", "no-store"),
        false, NOW).notStored()).isEqualTo("no-store");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "200 | Cache-Control | no-store | no-store",
      "200 | Cache-Control | private, max-age=60 | private",
      "200 | Cache-Control | no-cache | no-cache",
      "200 | Set-Cookie | a=1 | set-cookie",
      "200 | Vary | Accept, * | vary-star",
      "206 | X-Any | 1 | status",
      "302 | X-Any | 1 | status",
      "500 | X-Any | 1 | status",
      "200 | Cache-Control | max-age=0 | no-freshness",
      "200 | Expires | garbage | no-freshness"})
  void whatMustNotBeSharedIsRefused(int status, String name, String value, String why) {
    assertThat(Freshness.judge(POLICY, status, headers(name, value), false, NOW).notStored()).isEqualTo(why);
  }

  @Test
  void anAuthenticatedRequestsAnswerIsStoredOnlyWhenPublicOrSharedMaxAge() {
    assertThat(Freshness.judge(POLICY, 200, headers("Cache-Control", "max-age=60"), true, NOW).notStored())
        .isEqualTo("authenticated");
    assertThat(Freshness.judge(POLICY, 200, headers("Cache-Control", "public, max-age=60"), true, NOW).storable())
        .isTrue();
    assertThat(Freshness.judge(POLICY, 200, headers("Cache-Control", "s-maxage=60"), true, NOW).storable()).isTrue();
  }

  @Test
  void aZeroTtlStoresOnlyWhatTheOriginMarksFresh() {
    CachePolicy originOnly = policy(Duration.ZERO, true);
    assertThat(Freshness.judge(originOnly, 200, headers(), false, NOW).notStored()).isEqualTo("no-freshness");
    assertThat(Freshness.judge(originOnly, 200, headers("Cache-Control", "max-age=9"), false, NOW).lifetimeSeconds())
        .isEqualTo(9);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "max-age=3600 | 3600",
      "max-age=99999999999 | 2147483647",
      "foobar, max-age=3600 | 3600",
      "max-age=60;x=1, public | 60",
      "public, max-age=5 | 5",
      "max-age=60,\tno-transform=?0 | 60"})
  void aValidCdnCacheControlDecidesInsteadOfCacheControlAndExpires(String cdn, long lifetime) {
    Freshness.Verdict v = Freshness.judge(POLICY, 200, headers("Date", date(0), "Cache-Control", "no-store",
        "Expires", date(-100), "CDN-Cache-Control", cdn), false, NOW);
    assertThat(v.storable()).as("Cache-Control's no-store is not the edge's concern").isTrue();
    assertThat(v.lifetimeSeconds()).isEqualTo(lifetime);
  }

  @ParameterizedTest(name = "[{0}]")
  @ValueSource(strings = {"max-age =100", "max-age= 100", "max-age=10000, &&&&&", "max-age=\"10000\"", "MaX-aGe=3600",
      "max-age=-1", "max-age=1.5", "max-age=10,", "", "max-age=1234567890123456", "private=?1;a=\"x",
      "max-age=60, stale-if-error=(1 2)"})
  void anInvalidCdnCacheControlIsIgnoredWhole(String cdn) {
    Freshness.Verdict v = Freshness.judge(POLICY, 200, headers("Cache-Control", "no-store", "CDN-Cache-Control", cdn),
        false, NOW);
    assertThat(v.notStored()).as("Cache-Control decides").isEqualTo("no-store");
  }

  @Test
  void cdnCacheControlsAgeAndRefusalsHold() {
    assertThat(Freshness.judge(POLICY, 200, headers("CDN-Cache-Control", "max-age=3600", "Age", "7200"), false, NOW)
        .notStored()).isEqualTo("no-freshness");
    assertThat(Freshness.judge(POLICY, 200, headers("Cache-Control", "max-age=600", "CDN-Cache-Control", "private"),
        false, NOW).notStored()).isEqualTo("private");
    assertThat(Freshness.judge(POLICY, 200, headers("Cache-Control", "max-age=600", "CDN-Cache-Control", "no-store"),
        false, NOW).notStored()).isEqualTo("no-store");
    assertThat(Freshness.judge(policy(Duration.ofSeconds(60), false), 200,
        headers("Cache-Control", "max-age=600", "CDN-Cache-Control", "no-store"), false, NOW).lifetimeSeconds())
        .as("without honor-origin no origin field decides").isEqualTo(60);
  }

  @Test
  void theOriginsStaleWindowsAreKeptAndAStaleOnArrivalAnswerIsStoredForThem() {
    Freshness.Verdict swr = Freshness.judge(POLICY, 200,
        headers("Cache-Control", "max-age=0, stale-while-revalidate=60, stale-if-error=30"), false, NOW);
    assertThat(swr.storable()).isTrue();
    assertThat(swr.originStaleWhileRevalidateSeconds()).isEqualTo(60);
    assertThat(swr.originStaleIfErrorSeconds()).isEqualTo(30);
    assertThat(Freshness.judge(POLICY, 200, headers("Cache-Control", "max-age=0"), false, NOW).notStored())
        .isEqualTo("no-freshness");
    assertThat(Freshness.judge(POLICY, 200, headers("Cache-Control", "max-age=10, stale-if-error=5", "Age", "20"),
        false, NOW).notStored()).as("older on arrival than freshness and window together").isEqualTo("no-freshness");
    Freshness.Verdict sMaxAge = Freshness.judge(POLICY, 200,
        headers("Cache-Control", "s-maxage=1, stale-while-revalidate=59"), false, NOW);
    assertThat(sMaxAge.mayServeStale()).as("s-maxage forbids the route's windows").isFalse();
    assertThat(sMaxAge.originStaleWhileRevalidateSeconds()).as("but not one the answer grants itself").isEqualTo(59);
    Freshness.Verdict mustRevalidate = Freshness.judge(POLICY, 200,
        headers("Cache-Control", "max-age=10, must-revalidate, stale-if-error=60"), false, NOW);
    assertThat(mustRevalidate.originStaleIfErrorSeconds()).isEqualTo(-1);
    assertThat(Freshness.judge(POLICY, 200, headers("Cache-Control", "max-age=10, stale-if-error=x"), false, NOW)
        .originStaleIfErrorSeconds()).as("an unreadable window is ignored").isEqualTo(-1);
    assertThat(Freshness.judge(policy(Duration.ofSeconds(60), false), 200,
        headers("Cache-Control", "max-age=10, stale-if-error=60"), false, NOW).originStaleIfErrorSeconds()).isEqualTo(-1);
  }
}
