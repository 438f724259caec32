package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.BackendSelector;
import dev.meridian.balancer.StickyCookie;

/**
 * How sticky sessions name one group's backends: the hashes its cookies carry for the group, each
 * backend and each region, looked up without allocating; and, when a route hashes an application's
 * session cookie onto the group, the consistent-hash selector that does it. Immutable; built with the
 * group at start and on each reload.
 */
final class StickyTargets {
  private final String groupName;
  private final int groupHash;
  private final Backend[] backends;
  private final long[] backendHashes;
  private final String[] regions;
  private final int[] regionHashes;
  private final BackendSelector appCookieSelector;

  /**
   * @param appCookieSelector picks the backend an application session hashes to (health: available
   *                          or draining), or null when no route of the group uses app-cookie mode
   */
  StickyTargets(BackendGroup group, BackendSelector appCookieSelector) {
    this.groupName = group.name();
    this.groupHash = StickyCookie.groupHash(group.name());
    this.backends = group.backends().toArray(new Backend[0]);
    this.backendHashes = new long[backends.length];
    for (int i = 0; i < backends.length; i++) {
      backendHashes[i] = StickyCookie.backendHash(group.name(), backends[i].id());
    }
    this.regions = group.backends().stream().map(Backend::region).distinct().toArray(String[]::new);
    this.regionHashes = new int[regions.length];
    for (int i = 0; i < regions.length; i++) {
      regionHashes[i] = StickyCookie.regionHash(regions[i]);
    }
    this.appCookieSelector = appCookieSelector;
  }

  /** The group's name, as cookies are issued for it. */
  String groupName() {
    return groupName;
  }

  /** The group's hash, as cookies carry it. */
  int groupHash() {
    return groupHash;
  }

  /** The backend a cookie's backend hash names, or null when it is no longer in the group. */
  Backend backend(long hash) {
    for (int i = 0; i < backendHashes.length; i++) {
      if (backendHashes[i] == hash) {
        return backends[i];
      }
    }
    return null;
  }

  /** The region a cookie's region hash names, or null when the group has no backend there any more. */
  String region(int hash) {
    for (int i = 0; i < regionHashes.length; i++) {
      if (regionHashes[i] == hash) {
        return regions[i];
      }
    }
    return null;
  }

  /** The selector app-cookie mode hashes sessions with, or null when no route asks for it. */
  BackendSelector appCookieSelector() {
    return appCookieSelector;
  }
}
