package dev.meridian.proxy.http;

/**
 * Makes text a client chose safe to write into a line of the application log: control characters
 * (C0, DEL and the C1 range, which a terminal or a log viewer would act on: ESC sequences that
 * repaint the screen, CSI, BEL, backspaces over what came before) are written as {@code \xNN}, a
 * backslash as {@code \\}, and text beyond a bound is cut with "...". The access log escapes its
 * fields itself (as JSON).
 */
public final class LogText {
  /** The most characters of one value written to a line. */
  static final int MAX_LENGTH = 512;
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private LogText() {}

  /** The text as it may go into a log line; the same string when it needs no change. */
  public static String printable(CharSequence text) {
    if (text == null) {
      return null;
    }
    int length = Math.min(text.length(), MAX_LENGTH);
    int first = 0;
    while (first < length && !needsEscape(text.charAt(first))) {
      first++;
    }
    if (first == text.length()) {
      return text.toString();
    }
    StringBuilder out = new StringBuilder(length + 16).append(text, 0, first);
    for (int i = first; i < length; i++) {
      char c = text.charAt(i);
      if (c == '\\') {
        out.append("\\\\");
      } else if (needsEscape(c)) {
        out.append("\\x").append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
      } else {
        out.append(c);
      }
    }
    return length < text.length() ? out.append("...").toString() : out.toString();
  }

  private static boolean needsEscape(char c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\\';
  }
}
