package dev.meridian.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The client connections the descriptor limit allows each listener. */
class DescriptorBudgetTest {
  @Test
  void eachConnectionCountsWithABackendConnectionAndTheListenersShare() {
    assertThat(DescriptorBudget.allowed(20_000, 1)).isEqualTo((20_000 - 256) / 2);
    assertThat(DescriptorBudget.allowed(20_000, 2)).isEqualTo((20_000 - 256) / 4);
    assertThat(DescriptorBudget.allowed(1_048_576, 1)).isEqualTo((1_048_576 - 256) / 2);
    assertThat(DescriptorBudget.allowed(300, 4)).as("never below a floor").isEqualTo(16);
  }

  @Test
  void aBoundWithinTheLimitIsKeptAndOneAboveItIsHeld() {
    assertThat(DescriptorBudget.bound("web", 100, 1)).isEqualTo(100);
    assertThat(DescriptorBudget.bound("web", Integer.MAX_VALUE, 1)).isLessThan(Integer.MAX_VALUE);
  }
}
