package dev.meridian.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.HealthView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthRegistryTest {
  private final Backend backend = new Backend("b1", "127.0.0.1", 9001, "us-east", 1);

  @Test
  void backendIsAvailableUntilMarkedOut() {
    HealthRegistry registry = new HealthRegistry();
    assertThat(registry.isAvailable(backend)).isTrue();
    registry.markOut("b1", "operator", "drained");
    assertThat(registry.isAvailable(backend)).isFalse();
    assertThat(registry.reasons("b1")).containsEntry("operator", "drained");
  }

  @Test
  void eachOwnersMarkIsClearedSeparately() {
    HealthRegistry registry = new HealthRegistry();
    registry.markOut("b1", "operator", "drained");
    registry.markOut("b1", "active-check", "3 failed checks");
    registry.clear("b1", "operator");
    assertThat(registry.isAvailable(backend)).isFalse();
    registry.clear("b1", "active-check");
    assertThat(registry.isAvailable(backend)).isTrue();
  }

  @Test
  void listenersSeeEachTransitionOnce() {
    HealthRegistry registry = new HealthRegistry();
    List<String> seen = new ArrayList<>();
    registry.addListener((id, available) -> seen.add(id + "=" + available));
    registry.markOut("b1", "operator", "drained");
    registry.markOut("b1", "active-check", "3 failed checks");
    registry.clear("b1", "operator");
    registry.clear("b1", "active-check");
    registry.clear("b1", "active-check");
    assertThat(seen).containsExactly("b1=false", "b1=true");
  }

  @Test
  void laggingBackendIsSkippedForReadsOnly() {
    HealthRegistry registry = new HealthRegistry();
    HealthView reads = registry.readView(Duration.ofSeconds(5));
    assertThat(reads.isAvailable(backend)).as("unknown lag counts as caught up").isTrue();

    registry.setReplicationLag("b1", Duration.ofMillis(7500));
    assertThat(registry.replicationLag("b1")).contains(Duration.ofMillis(7500));
    assertThat(reads.isAvailable(backend)).isFalse();
    assertThat(registry.isAvailable(backend)).isTrue();

    registry.setReplicationLag("b1", Duration.ofSeconds(5));
    assertThat(reads.isAvailable(backend)).isTrue();
    registry.markOut("b1", "operator", "drained");
    assertThat(reads.isAvailable(backend)).isFalse();
  }
}
