package dev.meridian.proxy.server;

import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.GroupStats;
import dev.meridian.balancer.RegionalSelector;
import dev.meridian.proxy.config.MeridianSettings.BackendGroupSettings;
import java.util.Optional;

/**
 * One backend group as the proxy runs it: its regional selector, the latency and load statistics the
 * proxy feeds, and the per-request settings (hash key, writer, read-your-writes window).
 *
 * @param group          the group
 * @param selector       picks region then backend
 * @param stats          latency EWMA and in-flight per backend
 * @param hashKey        where consistent hashing takes its key: {@code header:NAME}, {@code cookie:NAME},
 *                       {@code client-address}
 * @param writer         the writer region, if any
 * @param readYourWritesMillis read-your-writes window in milliseconds, 0 when off
 */
record GroupRuntime(BackendGroup group, RegionalSelector selector, GroupStats stats, String hashKey,
    Optional<String> writer, long readYourWritesMillis) {

  static GroupRuntime of(BackendGroup group, RegionalSelector selector, GroupStats stats,
      BackendGroupSettings settings) {
    return new GroupRuntime(group, selector, stats,
        "consistent-hash".equals(settings.strategy()) ? settings.hash().key() : null,
        settings.regions().writer(), settings.regions().readYourWrites().toMillis());
  }
}
