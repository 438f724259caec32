package dev.meridian.proxy.routing;

/**
 * How request paths are normalized before routing ({@code meridian.paths}): what is routed is what
 * is forwarded, so a path cannot match one route and name another route's resource on a backend
 * that normalizes it differently.
 *
 * @param mergeSlashes runs of {@code /} become one ({@code //admin} is {@code /admin})
 * @param encodedSlash what a {@code %2F} in the path does
 */
public record PathPolicy(boolean mergeSlashes, EncodedSlash encodedSlash) {
  /** The defaults: slashes merged, an encoded slash refused. */
  public static final PathPolicy DEFAULT = new PathPolicy(true, EncodedSlash.REJECT);

  /** What a {@code %2F} (or {@code %2f}) in a path does. */
  public enum EncodedSlash {
    /** The request is refused (400): most backends would decode it into a path separator. */
    REJECT,
    /** It is kept as it is and routed as it is (for backends whose resource names contain {@code %2F}). */
    KEEP,
    /** It is decoded into {@code /} before routing and forwarding. */
    DECODE
  }
}
