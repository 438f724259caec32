package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which Host values (and absolute-form authorities) {@link dev.meridian.proxy.routing.HostPattern#isValidHost} accepts. */
class HostValidationTest {
  @ParameterizedTest
  @ValueSource(strings = {"", "example.test", "Example.Test:8080", "a", "127.0.0.1", "127.0.0.1:0",
      "host:65535", "my_host-1.internal:1", "[::1]", "[::1]:443", "[2001:db8::a.b.c.d]:8443",
      "[fe80::1.2.3.4]", "a.test.", "a.test.:8080", "a.test:0080"})
  void accepted(String host) {
    assertThat(dev.meridian.proxy.routing.HostPattern.isValidHost(host)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {":80", "host:", "host:65536", "host:123456", "host:8o", "host:-1", "host: 80",
      "ho st", "host/path", "host@evil", "[::1", "[::1]:", "[::1]x", "[::g]", "[::1]:99999", "a:b:c",
      "host:80:90", "\u00e9xample.test", "a.test..", ".a.test", "a..test", ".", "..", "a.test..:80"})
  void refused(String host) {
    assertThat(dev.meridian.proxy.routing.HostPattern.isValidHost(host)).isFalse();
  }

  @org.junit.jupiter.api.Test
  void longerThan255IsRefused() {
    assertThat(dev.meridian.proxy.routing.HostPattern.isValidHost("a".repeat(255))).isTrue();
    assertThat(dev.meridian.proxy.routing.HostPattern.isValidHost("a".repeat(256))).isFalse();
  }
}
