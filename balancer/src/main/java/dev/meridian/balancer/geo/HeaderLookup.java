package dev.meridian.balancer.geo;

/**
 * Reads one request header, so the resolver needs no HTTP library; the proxy adapts its own header
 * type with a method reference.
 */
@FunctionalInterface
public interface HeaderLookup {
  /** Looks up nothing: for requests without headers. */
  HeaderLookup NONE = name -> null;

  /**
   * The value of header {@code name} (matched case-insensitively, as HTTP header names are), or null
   * when absent. When a header appears more than once, the values joined with {@code ", "} in the
   * order received, which is what {@code X-Forwarded-For} needs.
   */
  String get(String name);
}
