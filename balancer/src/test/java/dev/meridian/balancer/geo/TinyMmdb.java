package dev.meridian.balancer.geo;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a small but valid MaxMind DB (format 2.0: a binary search tree with 24-bit records, a data
 * section, and the metadata after {@code \xAB\xCD\xEFMaxMind.com}), so tests read a real file
 * through the real reader without downloading GeoLite2. IPv6 tree; IPv4 networks live under
 * {@code ::/96} as in MaxMind's own databases. Data values: strings, maps, lists, and unsigned
 * integers (Integer as uint16, Long as uint32, BigInteger as uint64).
 */
final class TinyMmdb {
  private final Node root = new Node();
  private final ByteArrayOutputStream data = new ByteArrayOutputStream();
  private final String databaseType;

  TinyMmdb(String databaseType) {
    this.databaseType = databaseType;
  }

  /** Maps {@code cidr} to {@code record}; insert less specific networks first. */
  TinyMmdb put(String cidr, Map<String, ?> record) {
    CidrTable.Prefix prefix = CidrTable.parse(cidr);
    byte[] address = prefix.address();
    int length = prefix.length();
    if (address.length == 4) {
      byte[] v6 = new byte[16];
      System.arraycopy(address, 0, v6, 12, 4);
      address = v6;
      length += 96;
    }
    int offset = data.size();
    writeValue(data, record);
    Node node = root;
    for (int bit = 0; bit < length; bit++) {
      if (node.dataOffset >= 0) { // a less specific network: push its data down both sides
        node.children[0] = Node.leaf(node.dataOffset);
        node.children[1] = Node.leaf(node.dataOffset);
        node.dataOffset = -1;
      }
      int b = (address[bit >>> 3] >>> (7 - (bit & 7))) & 1;
      if (node.children[b] == null) {
        node.children[b] = new Node();
      }
      node = node.children[b];
    }
    node.dataOffset = offset;
    node.children[0] = null;
    node.children[1] = null;
    return this;
  }

  byte[] toBytes() {
    List<Node> nodes = new ArrayList<>();
    number(root, nodes);
    int nodeCount = nodes.size();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Node node : nodes) {
      for (Node child : node.children) {
        long record;
        if (child == null) {
          record = nodeCount;
        } else if (child.dataOffset >= 0) {
          record = nodeCount + 16L + child.dataOffset;
        } else {
          record = child.index;
        }
        out.write((int) (record >>> 16));
        out.write((int) (record >>> 8));
        out.write((int) record);
      }
    }
    out.writeBytes(new byte[16]); // data section separator
    out.writeBytes(data.toByteArray());
    out.writeBytes(new byte[] {(byte) 0xAB, (byte) 0xCD, (byte) 0xEF});
    out.writeBytes("MaxMind.com".getBytes(StandardCharsets.US_ASCII));
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("binary_format_major_version", 2);
    metadata.put("binary_format_minor_version", 0);
    metadata.put("build_epoch", BigInteger.valueOf(1_700_000_000L));
    metadata.put("database_type", databaseType);
    metadata.put("description", Map.of("en", "Meridian test database"));
    metadata.put("ip_version", 6);
    metadata.put("languages", List.of("en"));
    metadata.put("node_count", (long) nodeCount);
    metadata.put("record_size", 24);
    writeValue(out, metadata);
    return out.toByteArray();
  }

  /** Numbers inner nodes breadth-first from the root (index 0); leaves get no number. */
  private static void number(Node root, List<Node> nodes) {
    List<Node> queue = new ArrayList<>(List.of(root));
    for (int i = 0; i < queue.size(); i++) {
      Node node = queue.get(i);
      node.index = nodes.size();
      nodes.add(node);
      for (Node child : node.children) {
        if (child != null && child.dataOffset < 0) {
          queue.add(child);
        }
      }
    }
  }

  private static void writeValue(ByteArrayOutputStream out, Object value) {
    if (value instanceof String s) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      control(out, 2, bytes.length);
      out.writeBytes(bytes);
    } else if (value instanceof Map<?, ?> map) {
      control(out, 7, map.size());
      map.forEach((k, v) -> {
        writeValue(out, k);
        writeValue(out, v);
      });
    } else if (value instanceof List<?> list) {
      extendedControl(out, 11, list.size());
      list.forEach(v -> writeValue(out, v));
    } else if (value instanceof Integer n) {
      writeUnsigned(out, 5, n);
    } else if (value instanceof Long n) {
      writeUnsigned(out, 6, n);
    } else if (value instanceof BigInteger n) {
      writeUnsigned(out, 9, n.longValueExact());
    } else {
      throw new IllegalArgumentException("unsupported value: " + value);
    }
  }

  /** An unsigned integer of {@code type} (5 uint16, 6 uint32, 9 uint64) in as few bytes as fit. */
  private static void writeUnsigned(ByteArrayOutputStream out, int type, long n) {
    int bytes = (64 - Long.numberOfLeadingZeros(n) + 7) / 8;
    if (type < 8) {
      control(out, type, bytes);
    } else {
      extendedControl(out, type, bytes);
    }
    for (int i = bytes - 1; i >= 0; i--) {
      out.write((int) (n >>> (8 * i)));
    }
  }

  private static void control(ByteArrayOutputStream out, int type, int size) {
    if (size >= 29) {
      throw new IllegalArgumentException("size: " + size + " (expected: < 29 in this writer)");
    }
    out.write((type << 5) | size);
  }

  private static void extendedControl(ByteArrayOutputStream out, int type, int size) {
    control(out, 0, size);
    out.write(type - 7);
  }

  private static final class Node {
    final Node[] children = new Node[2];
    int dataOffset = -1;
    int index;

    static Node leaf(int dataOffset) {
      Node node = new Node();
      node.dataOffset = dataOffset;
      return node;
    }
  }
}
