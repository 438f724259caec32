package dev.meridian.balancer.geo;

/**
 * Parses and formats IPv4 and IPv6 address literals without DNS (unlike
 * {@link java.net.InetAddress#getByName}, which looks up anything that is not a literal).
 *
 * <p>Parsed addresses are 4 or 16 network-order bytes; IPv4-mapped IPv6 literals such as
 * {@code ::ffff:10.0.0.1} stay 16 bytes and are folded by the callers that care.
 */
final class AddressLiterals {
  private AddressLiterals() {}

  /** The address in {@code s}, or null when it is not a plain IPv4 or IPv6 literal. */
  static byte[] parse(CharSequence s) {
    return parse(s, 0, s.length());
  }

  /** The address in {@code s[from, to)}, or null when it is not a plain IPv4 or IPv6 literal. */
  static byte[] parse(CharSequence s, int from, int to) {
    if (from >= to) {
      return null;
    }
    for (int i = from; i < to; i++) {
      if (s.charAt(i) == ':') {
        return parseV6(s, from, to);
      }
    }
    byte[] out = new byte[4];
    return parseV4(s, from, to, out, 0) ? out : null;
  }

  /**
   * The address of one {@code X-Forwarded-For} entry in {@code s[from, to)}: surrounding blanks
   * are ignored, and so is a port some proxies append ({@code 192.0.2.1:4711},
   * {@code [2001:db8::1]:4711}). Null when the entry is not an address ({@code unknown}, an
   * obfuscated identifier, garbage).
   */
  static byte[] parseForwarded(CharSequence s, int from, int to) {
    while (from < to && isBlank(s.charAt(from))) {
      from++;
    }
    while (to > from && isBlank(s.charAt(to - 1))) {
      to--;
    }
    if (from >= to) {
      return null;
    }
    if (s.charAt(from) == '[') {
      int close = indexOf(s, ']', from, to);
      if (close < 0 || (close + 1 < to && !isPort(s, close + 1, to))) {
        return null;
      }
      return parseV6(s, from + 1, close);
    }
    int colon = indexOf(s, ':', from, to);
    if (colon >= 0 && indexOf(s, ':', colon + 1, to) < 0) {
      // Exactly one colon: IPv4 with a port (an IPv6 literal has at least two).
      if (!isPort(s, colon, to)) {
        return null;
      }
      byte[] out = new byte[4];
      return parseV4(s, from, colon, out, 0) ? out : null;
    }
    return parse(s, from, to);
  }

  /** {@code address} as text: dotted quad, or RFC 5952 IPv6 (longest zero run as {@code ::}). */
  static String format(byte[] address) {
    StringBuilder sb = new StringBuilder(39);
    if (address.length == 4) {
      for (int i = 0; i < 4; i++) {
        if (i > 0) {
          sb.append('.');
        }
        sb.append(address[i] & 0xff);
      }
      return sb.toString();
    }
    int bestStart = -1;
    int bestLength = 1; // a single zero group is not shortened
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && group(address, j) == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLength - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(group(address, i)));
    }
    return sb.toString();
  }

  /** True for 16 bytes of the form {@code ::ffff:a.b.c.d}. */
  static boolean isIpv4Mapped(byte[] address) {
    if (address.length != 16) {
      return false;
    }
    for (int i = 0; i < 10; i++) {
      if (address[i] != 0) {
        return false;
      }
    }
    return address[10] == (byte) 0xff && address[11] == (byte) 0xff;
  }

  private static int group(byte[] address, int index) {
    return ((address[2 * index] & 0xff) << 8) | (address[2 * index + 1] & 0xff);
  }

  private static boolean parseV4(CharSequence s, int from, int to, byte[] out, int offset) {
    int part = 0;
    int i = from;
    while (part < 4) {
      int start = i;
      int value = 0;
      while (i < to && i - start < 3 && isDigit(s.charAt(i))) {
        value = value * 10 + (s.charAt(i) - '0');
        i++;
      }
      int digits = i - start;
      if (digits == 0 || value > 255 || (digits > 1 && s.charAt(start) == '0')) {
        return false; // empty, too large, or a leading zero some parsers would read as octal
      }
      out[offset + part++] = (byte) value;
      if (part < 4) {
        if (i >= to || s.charAt(i) != '.') {
          return false;
        }
        i++;
      }
    }
    return i == to;
  }

  private static byte[] parseV6(CharSequence s, int from, int to) {
    if (from >= to) {
      return null;
    }
    byte[] out = new byte[16];
    int groups = 0;
    int compressedAt = -1;
    int i = from;
    if (s.charAt(i) == ':') {
      if (i + 1 >= to || s.charAt(i + 1) != ':') {
        return null;
      }
      compressedAt = 0;
      i += 2;
    }
    while (i < to) {
      int start = i;
      int value = 0;
      while (i < to && hexValue(s.charAt(i)) >= 0) {
        value = (value << 4) | hexValue(s.charAt(i));
        i++;
      }
      if (i < to && s.charAt(i) == '.') {
        // Embedded IPv4 in the last 32 bits (::ffff:192.0.2.1, 64:ff9b::192.0.2.1).
        if (groups > 6 || !parseV4(s, start, to, out, 2 * groups)) {
          return null;
        }
        groups += 2;
        i = to;
        break;
      }
      if (i == start || i - start > 4 || groups == 8) {
        return null;
      }
      out[2 * groups] = (byte) (value >>> 8);
      out[2 * groups + 1] = (byte) value;
      groups++;
      if (i == to) {
        break;
      }
      if (s.charAt(i) != ':') {
        return null;
      }
      i++;
      if (i < to && s.charAt(i) == ':') {
        if (compressedAt >= 0) {
          return null; // at most one "::"
        }
        compressedAt = groups;
        i++;
      } else if (i == to) {
        return null; // trailing single colon
      }
    }
    if (compressedAt >= 0) {
      if (groups == 8) {
        return null; // "::" must stand for at least one group
      }
      int shift = 8 - groups;
      for (int g = groups - 1; g >= compressedAt; g--) {
        out[2 * (g + shift)] = out[2 * g];
        out[2 * (g + shift) + 1] = out[2 * g + 1];
      }
      for (int g = compressedAt; g < compressedAt + shift; g++) {
        out[2 * g] = 0;
        out[2 * g + 1] = 0;
      }
      return out;
    }
    return groups == 8 ? out : null;
  }

  private static boolean allDigits(CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (!isDigit(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isPort(CharSequence s, int colon, int to) {
    if (s.charAt(colon) != ':' || colon + 1 >= to || to - colon - 1 > 5) {
      return false;
    }
    return allDigits(s, colon + 1, to);
  }

  private static int indexOf(CharSequence s, char c, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) == c) {
        return i;
      }
    }
    return -1;
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int hexValue(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
