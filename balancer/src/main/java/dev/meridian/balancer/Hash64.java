package dev.meridian.balancer;

/** Stable 64-bit hashing for consistent hashing: identical on every instance and every run. */
final class Hash64 {
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private Hash64() {}

  /** FNV-1a over the UTF-16 code units of the text, then {@link #mix}: spreads similar ids apart. */
  static long of(String text) {
    long h = FNV_OFFSET;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      h = (h ^ (c & 0xff)) * FNV_PRIME;
      h = (h ^ (c >>> 8)) * FNV_PRIME;
    }
    return mix(h);
  }

  /** The {@code i}-th derived hash of a base hash (virtual nodes, Maglev offset and skip). */
  static long derive(long base, long i) {
    return mix(base + (i + 1) * GOLDEN);
  }

  /** SplitMix64's finalizer: every input bit affects every output bit. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
