package dev.meridian.balancer;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A named, ordered set of backends that serve the same routes.
 *
 * @param name     the group's name in the configuration
 * @param backends the backends, in configuration order, with distinct ids
 */
public record BackendGroup(String name, List<Backend> backends) {

  /** Copies the backend list and checks that ids are distinct. */
  public BackendGroup {
    backends = List.copyOf(backends);
    Set<String> ids = new HashSet<>();
    for (Backend b : backends) {
      if (!ids.add(b.id())) {
        throw new IllegalArgumentException(
            "backend id '" + b.id() + "' appears twice in group '" + name + "' (expected: unique ids)");
      }
    }
  }

  /** The backend with this id, or null. */
  public Backend find(String id) {
    for (Backend b : backends) {
      if (b.id().equals(id)) {
        return b;
      }
    }
    return null;
  }
}
