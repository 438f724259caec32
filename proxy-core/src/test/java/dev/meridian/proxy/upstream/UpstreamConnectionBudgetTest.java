package dev.meridian.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The process-wide bound on backend connections. */
class UpstreamConnectionBudgetTest {
  @Test
  void placesAreTakenUpToTheBoundAndGivenBack() {
    UpstreamConnectionBudget budget = new UpstreamConnectionBudget(2);
    assertThat(budget.take()).isTrue();
    assertThat(budget.take()).isTrue();
    assertThat(budget.take()).as("at the bound").isFalse();
    assertThat(budget.open()).isEqualTo(2);
    budget.give();
    assertThat(budget.take()).as("a place given back").isTrue();
  }

  @Test
  void theDefaultBoundIsHalfTheOpenFileLimitLessTheReserve() {
    long limit = dev.meridian.proxy.transport.DescriptorLimit.get().orElse(-1);
    UpstreamConnectionBudget budget = UpstreamConnectionBudget.fromDescriptorLimit();
    if (limit > 0) {
      assertThat(budget.max()).isEqualTo((int) Math.max(16, (limit - UpstreamConnectionBudget.RESERVED) / 2));
    } else {
      assertThat(budget.max()).isEqualTo(Integer.MAX_VALUE);
    }
    assertThat(LocalFailures.isLocal(new UpstreamConnectionBudget.Exhausted(2))).as("not the backend's fault").isTrue();
  }
}
