package dev.meridian.bench;

import dev.meridian.balancer.Backend;

/** The benchmarks name backends {@code b<index>}; this reads the index back without allocating. */
final class BackendIds {
  private BackendIds() {}

  /** The index in a backend id of the form {@code b<index>}. */
  static int indexOf(Backend b) {
    String id = b.id();
    int index = 0;
    for (int i = 1; i < id.length(); i++) {
      index = index * 10 + id.charAt(i) - '0';
    }
    return index;
  }
}
