package dev.meridian.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.proxy.routing.StickyPolicy.Mode;
import dev.meridian.proxy.routing.StickyPolicy.Secure;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StickyPolicyTest {

  /** The documented defaults ({@code sticky {}}), with the given Secure setting. */
  private static StickyPolicy defaults(Secure secure) {
    return new StickyPolicy(Mode.COOKIE, "meridian_affinity", Duration.ofHours(1), secure, true, "Lax", "/", "",
        "JSESSIONID", false);
  }

  @Test
  void rendersTheDefaultAttributesOverCleartext() {
    assertThat(defaults(Secure.AUTO).setCookie("v4lue", false))
        .isEqualTo("meridian_affinity=v4lue; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax");
  }

  @ParameterizedTest(name = "[{index}] secure = {0}, tls = {1}")
  @CsvSource({
      "AUTO,   false, false",
      "AUTO,   true,  true",
      "ALWAYS, false, true",
      "ALWAYS, true,  true",
      "NEVER,  false, false",
      "NEVER,  true,  false",
  })
  void addsSecureAsTheSettingAndTheConnectionSay(Secure secure, boolean tls, boolean expectSecure) {
    String expected = "meridian_affinity=v; Max-Age=3600; Path=/" + (expectSecure ? "; Secure" : "")
        + "; HttpOnly; SameSite=Lax";

    assertThat(defaults(secure).setCookie("v", tls)).isEqualTo(expected);
  }

  @Test
  void rendersEveryConfiguredAttribute() {
    StickyPolicy policy = new StickyPolicy(Mode.COOKIE, "srv", Duration.ofMinutes(30), Secure.ALWAYS, true,
        "None", "/shop", "example.com", "JSESSIONID", true);

    assertThat(policy.setCookie("abc", false))
        .isEqualTo("srv=abc; Max-Age=1800; Path=/shop; Domain=example.com; Secure; HttpOnly; SameSite=None");
  }

  @Test
  void aRenamedCookieKeepsItsFormerName() {
    StickyPolicy policy = new StickyPolicy(Mode.COOKIE, "meridian_affinity", Duration.ofMinutes(30), Secure.ALWAYS,
        true, "Lax", "/shop", "example.com", "JSESSIONID", false).renamed("meridian_affinity_app");

    assertThat(policy.cookie()).isEqualTo("meridian_affinity_app");
    assertThat(policy.formerCookie()).isEqualTo("meridian_affinity");
    assertThat(policy.setCookie("abc", false)).startsWith("meridian_affinity_app=abc; Max-Age=1800; Path=/shop;");
    assertThat(defaults(Secure.AUTO).formerCookie()).as("a cookie never renamed has no former name").isEmpty();
  }

  @Test
  void leavesOutSameSiteHttpOnlyAndPathWhenTheyAreOff() {
    StickyPolicy policy = new StickyPolicy(Mode.COOKIE, "srv", Duration.ofSeconds(90), Secure.NEVER, false,
        "", "", "", "JSESSIONID", false);

    assertThat(policy.setCookie("abc", true)).isEqualTo("srv=abc; Max-Age=90");
  }

  @Test
  void leavesOutOnlySameSiteWhenItIsEmpty() {
    StickyPolicy policy = new StickyPolicy(Mode.COOKIE, "srv", Duration.ofHours(1), Secure.AUTO, true,
        "", "/", "", "JSESSIONID", false);

    assertThat(policy.setCookie("abc", false)).isEqualTo("srv=abc; Max-Age=3600; Path=/; HttpOnly");
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource({
      "PT1H,      3600",
      "PT1.9S,    1",
      "PT0.5S,    1",
      "PT0S,      1",
      "PT61.999S, 61",
      "P1D,       86400",
  })
  void countsTheLifetimeInWholeSecondsOfAtLeastOne(Duration ttl, long seconds) {
    StickyPolicy policy = new StickyPolicy(Mode.COOKIE, "c", ttl, Secure.NEVER, false, "", "/", "", "J", false);

    assertThat(policy.ttlSeconds()).isEqualTo(seconds);
    assertThat(policy.setCookie("v", false)).isEqualTo("c=v; Max-Age=" + seconds + "; Path=/");
  }
}
