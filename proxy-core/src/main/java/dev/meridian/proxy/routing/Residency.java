package dev.meridian.proxy.routing;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A route's data residency rule: the request header that names a residency class, and the only
 * regions each class may reach.
 *
 * @param header  the header's name, e.g. {@code X-Data-Residency}
 * @param classes residency class (lower case) to its allowed regions
 */
public record Residency(String header, Map<String, Set<String>> classes) {

  /** Copies the table with lower-case class names. */
  public Residency {
    Map<String, Set<String>> copy = new java.util.HashMap<>();
    classes.forEach((k, v) -> copy.put(k.toLowerCase(Locale.ROOT), Set.copyOf(v)));
    classes = Map.copyOf(copy);
  }

  /** The regions a class may reach, or null for an unknown class. */
  public Set<String> regionsOf(String residencyClass) {
    return classes.get(residencyClass.trim().toLowerCase(Locale.ROOT));
  }
}
