package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class BackendTest {

  @Test
  void authorityBracketsIpv6() {
    assertThat(new Backend("v6", "::1", 8080, "r", 1).authority()).isEqualTo("[::1]:8080");
    assertThat(new Backend("v4", "127.0.0.1", 8080, "r", 1).authority()).isEqualTo("127.0.0.1:8080");
  }

  @Test
  void invalidValuesAreRefusedWithTheExpectedRange() {
    assertThatThrownBy(() -> new Backend("x", "h", 0, "r", 1)).hasMessageContaining("expected: 1-65535");
    assertThatThrownBy(() -> new Backend("x", "h", 80, "r", 0)).hasMessageContaining("expected: >= 1");
    assertThatThrownBy(() -> new Backend("", "h", 80, "r", 1)).hasMessageContaining("id");
  }

  @Test
  void groupRefusesDuplicateIds() {
    Backend one = new Backend("same", "h", 80, "r", 1);
    Backend two = new Backend("same", "h", 81, "r", 1);
    assertThatThrownBy(() -> new BackendGroup("g", List.of(one, two))).hasMessageContaining("'same'");
  }
}
