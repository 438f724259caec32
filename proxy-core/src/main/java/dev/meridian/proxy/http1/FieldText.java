package dev.meridian.proxy.http1;

import io.netty.util.AsciiString;

/**
 * Compares header text in place: a byte range of a head against a {@code CharSequence}, and the
 * elements of a comma-separated field value (as {@code Connection: keep-alive, Upgrade}) against a
 * token, optional whitespace trimmed, without making a {@code String}.
 */
final class FieldText {
  private FieldText() {}

  /** Whether {@code b[start, end)} equals {@code text}, ASCII case ignored. */
  static boolean equalsIgnoreCase(byte[] b, int start, int end, CharSequence text) {
    int length = end - start;
    if (length != text.length()) {
      return false;
    }
    if (text instanceof AsciiString ascii) {
      byte[] bytes = ascii.array();
      int offset = ascii.arrayOffset();
      for (int i = 0; i < length; i++) {
        if (lower(b[start + i]) != lower(bytes[offset + i])) {
          return false;
        }
      }
      return true;
    }
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c > 0x7f || lower(b[start + i]) != lower((byte) c)) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code b[start, end)} equals {@code text}, with or without ASCII case. */
  static boolean regionEquals(byte[] b, int start, int end, CharSequence text, boolean ignoreCase) {
    if (end - start != text.length()) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      byte x = b[start + i];
      char c = text.charAt(i);
      if (c > 0xff) {
        return false;
      }
      if (ignoreCase ? lower(x) != lower((byte) c) : x != (byte) c) {
        return false;
      }
    }
    return true;
  }

  /** Whether the comma-separated list in {@code b[start, end)} has an element equal to the token. */
  static boolean listContains(byte[] b, int start, int end, CharSequence token, boolean ignoreCase) {
    return hasElement(b, start, end, token, ignoreCase, null);
  }

  /**
   * Whether every element of the comma-separated list in {@code b[start, end)} is one of the names
   * (empty elements, as in {@code "a, ,b"}, are skipped).
   */
  static boolean listElementsIn(byte[] b, int start, int end, FieldNames names) {
    return !hasElement(b, start, end, null, false, names);
  }

  /**
   * Whether the comma-separated list in {@code b[start, end)} has an element, whitespace around it
   * trimmed, that equals {@code token}; or, when {@code outside} is given, a non-empty element that
   * is not one of those names.
   */
  private static boolean hasElement(byte[] b, int start, int end, CharSequence token, boolean ignoreCase,
      FieldNames outside) {
    int index = start;
    while (index <= end) {
      int comma = index;
      while (comma < end && b[comma] != ',') {
        comma++;
      }
      int from = index;
      while (from < comma && isOws(b[from])) {
        from++;
      }
      int to = comma;
      while (to > from && isOws(b[to - 1])) {
        to--;
      }
      if (outside != null ? from < to && !outside.contains(b, from, to)
          : regionEquals(b, from, to, token, ignoreCase)) {
        return true;
      }
      index = comma + 1;
    }
    return false;
  }

  /** Whether the comma-separated list {@code value} has an element equal to the token. */
  static boolean listContains(CharSequence value, CharSequence token, boolean ignoreCase) {
    int index = 0;
    int end = value.length();
    while (index <= end) {
      int comma = index;
      while (comma < end && value.charAt(comma) != ',') {
        comma++;
      }
      int from = index;
      while (from < comma && isOws((byte) value.charAt(from))) {
        from++;
      }
      int to = comma;
      while (to > from && isOws((byte) value.charAt(to - 1))) {
        to--;
      }
      CharSequence element = value.subSequence(from, to);
      if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(element, token) : AsciiString.contentEquals(element, token)) {
        return true;
      }
      index = comma + 1;
    }
    return false;
  }

  static byte lower(byte b) {
    return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
  }

  private static boolean isOws(byte b) {
    return b == ' ' || b == '\t';
  }
}
