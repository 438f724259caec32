package dev.meridian.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meridian.balancer.Backend;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the pools remember of backends that links updates removed. */
class UpstreamPoolsTest {
  private static final BackendLink CLEARTEXT = new BackendLink(UpstreamProtocol.HTTP1, null);

  private static Map<Backend, BackendLink> generation(int first, int count) {
    Map<Backend, BackendLink> links = new HashMap<>();
    for (int i = first; i < first + count; i++) {
      links.put(new Backend("pod-" + i, "10.0." + (i / 250) % 250 + "." + i % 250, 8080, "us-east", 1), CLEARTEXT);
    }
    return links;
  }

  /**
   * Discovery that replaces every backend again and again (pods rolled all day) retires each set in
   * turn: the pools remember a bounded number of them, always the ones just retired.
   */
  @Test
  void theRetiredBackendsOfEndlessReplacementsStayBounded() {
    UpstreamPools pools = new UpstreamPools(null); // no pool is made: links updates only
    Map<Backend, BackendLink> previous = generation(0, 100);
    pools.links(previous);
    for (int g = 1; g <= 200; g++) {
      Map<Backend, BackendLink> next = generation(g * 100, 100);
      pools.links(next);
      assertThat(pools.retiredCount()).isLessThanOrEqualTo(UpstreamPools.MAX_RETIRED);
      previous.keySet().forEach(b -> assertThat(pools.isRetired(b)).as("just retired: " + b).isTrue());
      previous = next;
    }
    assertThat(pools.retiredCount()).isGreaterThan(100);
    Backend back = generation(0, 1).keySet().iterator().next();
    pools.links(Map.of(back, CLEARTEXT));
    assertThat(pools.isRetired(back)).as("a backend that is back is not retired").isFalse();
  }
}
