package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RetryBudgetTest {
  private final AtomicLong now = new AtomicLong();

  @Test
  void retriesAreCappedAtTheRatioOfRecentRequests() {
    RetryBudget budget = new RetryBudget(0.2, 0, now::get);
    for (int i = 0; i < 100; i++) {
      budget.requestStarted();
    }
    int granted = 0;
    while (budget.tryRetry()) {
      granted++;
    }
    assertThat(granted).isEqualTo(20);
  }

  @Test
  void aQuietServiceMayStillRetryTheMinimumPerSecond() {
    RetryBudget budget = new RetryBudget(0.2, 3, now::get);
    budget.requestStarted();
    int granted = 0;
    while (budget.tryRetry()) {
      granted++;
    }
    assertThat(granted).isEqualTo(30);
  }

  @Test
  void theWindowSlidesSoTheBudgetRefills() {
    RetryBudget budget = new RetryBudget(0.5, 0, now::get);
    for (int i = 0; i < 10; i++) {
      budget.requestStarted();
    }
    while (budget.tryRetry()) {
      // spend it
    }
    assertThat(budget.tryRetry()).isFalse();
    now.addAndGet(11_000_000_000L);
    assertThat(budget.tryRetry()).isFalse();
    budget.requestStarted();
    budget.requestStarted();
    assertThat(budget.tryRetry()).isTrue();
  }

  @Test
  void requestsCountedFromManyThreadsAtOnceAreNotLost() throws Exception {
    RetryBudget budget = new RetryBudget(0.1, 0, now::get);
    Thread[] loops = new Thread[4];
    for (int t = 0; t < loops.length; t++) {
      loops[t] = new Thread(() -> {
        for (int i = 0; i < 50_000; i++) {
          budget.requestStarted();
        }
      });
      loops[t].start();
    }
    for (Thread loop : loops) {
      loop.join();
    }
    int granted = 0;
    while (budget.tryRetry()) {
      granted++;
    }
    assertThat(granted).isEqualTo(20_000);
  }
}
