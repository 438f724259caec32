package dev.meridian.balancer.geo;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * Maps IPv4 and IPv6 networks to values and finds the value of the longest prefix containing an
 * address, like a router's forwarding table.
 *
 * <p>Two binary tries, one per address family, one node per prefix bit, kept in flat arrays, so a
 * lookup walks at most 32 or 128 array slots and allocates nothing beyond the copy
 * {@link InetAddress#getAddress()} makes. IPv4-mapped IPv6 addresses ({@code ::ffff:192.0.2.1}) are
 * looked up, and {@code ::ffff:0:0/96}-style networks stored, as their IPv4 equivalents.
 *
 * <p>Not thread-safe while being filled: build it with {@link #put}, then publish it safely (a final
 * field) and only call {@link #lookup} from then on; concurrent lookups are fine.
 *
 * @param <V> the value type; values are never null
 */
public final class CidrTable<V> {
  private static final String EXPECTED =
      "(expected: an address/prefix like 10.0.0.0/8 or 2001:db8::/32)";

  private final Trie v4 = new Trie();
  private final Trie v6 = new Trie();
  private int size;

  /**
   * Maps the network {@code cidr} to {@code value}, replacing the value of an equal network.
   *
   * @param cidr  {@code address/prefix} ({@code 10.0.0.0/8}, {@code 2001:db8::/32}), or a bare
   *              address meaning {@code /32} or {@code /128}; bits past the prefix must be zero
   * @param value the value, not null
   * @return the value previously mapped to this exact network, or null
   * @throws IllegalArgumentException when {@code cidr} is not a network, saying why
   */
  @SuppressWarnings("unchecked")
  public V put(String cidr, V value) {
    Objects.requireNonNull(value, "value");
    Prefix prefix = parse(cidr);
    Trie trie = prefix.address.length == 4 ? v4 : v6;
    Object previous = trie.put(prefix.address, prefix.length, value);
    if (previous == null) {
      size++;
    }
    return (V) previous;
  }

  /** The value of the longest network containing {@code address}, or null when none does. */
  public V lookup(InetAddress address) {
    return lookup(address.getAddress());
  }

  /**
   * The value of the longest network containing {@code address} (4 or 16 network-order bytes), or
   * null when none does. Allocates nothing.
   */
  @SuppressWarnings("unchecked")
  public V lookup(byte[] address) {
    if (address.length == 4) {
      return (V) v4.lookup(address, 0, 32);
    }
    if (address.length != 16) {
      throw new IllegalArgumentException("address: " + address.length
          + " bytes (expected: 4 for IPv4 or 16 for IPv6)");
    }
    if (AddressLiterals.isIpv4Mapped(address)) {
      return (V) v4.lookup(address, 12, 32);
    }
    return (V) v6.lookup(address, 0, 128);
  }

  /** The number of networks in the table. */
  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /**
   * Parses {@code cidr} into its network address (4 or 16 bytes, IPv4-mapped folded to IPv4) and
   * prefix length.
   */
  static Prefix parse(String cidr) {
    if (cidr == null) {
      throw new IllegalArgumentException("cidr: null " + EXPECTED);
    }
    int slash = cidr.indexOf('/');
    byte[] address = AddressLiterals.parse(cidr, 0, slash < 0 ? cidr.length() : slash);
    if (address == null) {
      throw new IllegalArgumentException("cidr: '" + cidr + "' " + EXPECTED);
    }
    int bits = address.length * 8;
    int length = bits;
    if (slash >= 0) {
      length = parsePrefixLength(cidr, slash + 1);
      if (length < 0 || length > bits) {
        throw new IllegalArgumentException("cidr: '" + cidr + "' " + EXPECTED);
      }
    }
    if (AddressLiterals.isIpv4Mapped(address) && length >= 96) {
      address = Arrays.copyOfRange(address, 12, 16);
      length -= 96;
    }
    byte[] network = mask(address, length);
    if (!Arrays.equals(network, address)) {
      throw new IllegalArgumentException("cidr: '" + cidr + "' has bits set past the /" + length
          + " prefix (expected: " + AddressLiterals.format(network) + "/" + length + ")");
    }
    return new Prefix(address, length);
  }

  private static int parsePrefixLength(String cidr, int from) {
    int to = cidr.length();
    if (from >= to || to - from > 3) {
      return -1;
    }
    int value = 0;
    for (int i = from; i < to; i++) {
      char c = cidr.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  private static byte[] mask(byte[] address, int length) {
    byte[] masked = address.clone();
    for (int bit = length; bit < masked.length * 8; bit++) {
      masked[bit >>> 3] &= (byte) ~(0x80 >>> (bit & 7));
    }
    return masked;
  }

  /** A parsed network: its address bytes and prefix length. */
  record Prefix(byte[] address, int length) {}

  /**
   * A binary trie in parallel arrays: node 0 is the root, a child index of 0 means "no child" (the
   * root is nobody's child), and a non-null value marks the end of a stored prefix.
   */
  private static final class Trie {
    private int[] zero = new int[64];
    private int[] one = new int[64];
    private Object[] values = new Object[64];
    private int nodes = 1;

    Object put(byte[] address, int length, Object value) {
      int node = 0;
      for (int bit = 0; bit < length; bit++) {
        int[] children = bitAt(address, 0, bit) == 0 ? zero : one;
        int child = children[node];
        if (child == 0) {
          child = newNode();
          // newNode() may have grown the arrays: read them again.
          (bitAt(address, 0, bit) == 0 ? zero : one)[node] = child;
        }
        node = child;
      }
      Object previous = values[node];
      values[node] = value;
      return previous;
    }

    Object lookup(byte[] address, int offset, int bits) {
      Object best = values[0];
      int node = 0;
      for (int bit = 0; bit < bits; bit++) {
        node = bitAt(address, offset, bit) == 0 ? zero[node] : one[node];
        if (node == 0) {
          break;
        }
        Object value = values[node];
        if (value != null) {
          best = value;
        }
      }
      return best;
    }

    private int newNode() {
      if (nodes == zero.length) {
        int capacity = nodes * 2;
        zero = Arrays.copyOf(zero, capacity);
        one = Arrays.copyOf(one, capacity);
        values = Arrays.copyOf(values, capacity);
      }
      return nodes++;
    }

    private static int bitAt(byte[] address, int offset, int bit) {
      return (address[offset + (bit >>> 3)] >>> (7 - (bit & 7))) & 1;
    }
  }
}
