package dev.meridian.proxy.cache;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a Structured Field Dictionary (RFC 8941 section 4.2.2), the syntax of targeted cache-control
 * fields such as {@code CDN-Cache-Control} (RFC 9213): {@link #parse} gives each member's value as a
 * {@link Long} (an integer), {@link Boolean} (a bare key is {@code true}) or {@link #OTHER} (a decimal,
 * string, token, byte sequence or inner list, which no cache directive takes), parameters read and
 * dropped, a later duplicate winning; or null when the text is no valid dictionary, for then the
 * whole field is ignored (RFC 9213 section 2.1).
 */
final class StructuredDictionary {
  /** The value of a member of a type no directive here takes. */
  static final Object OTHER = new Object();

  private final String text;
  private int at;

  private StructuredDictionary(String text) {
    this.text = text;
  }

  /** The members of a dictionary, in order, or null when the text is no valid one. */
  static Map<String, Object> parse(String text) {
    try {
      return new StructuredDictionary(text).dictionary();
    } catch (IllegalArgumentException invalid) {
      return null;
    }
  }

  private Map<String, Object> dictionary() {
    Map<String, Object> members = new LinkedHashMap<>();
    skipSpaces();
    while (at < text.length()) {
      String key = key();
      Object value;
      if (peek() == '=') {
        at++;
        value = peek() == '(' ? innerList() : bareItem();
      } else {
        value = Boolean.TRUE;
      }
      parameters();
      members.put(key, value);
      skipWhitespace();
      if (at == text.length()) {
        break;
      }
      expect(',');
      skipWhitespace();
      if (at == text.length()) {
        throw invalid(); // a trailing comma
      }
    }
    return members;
  }

  private Object innerList() {
    expect('(');
    while (true) {
      skipSpaces();
      if (peek() == ')') {
        at++;
        return OTHER;
      }
      bareItem();
      parameters();
      char next = peek();
      if (next != ' ' && next != ')') {
        throw invalid();
      }
    }
  }

  private void parameters() {
    while (peek() == ';') {
      at++;
      skipSpaces();
      key();
      if (peek() == '=') {
        at++;
        bareItem();
      }
    }
  }

  private String key() {
    int start = at;
    char first = peek();
    if (!(first >= 'a' && first <= 'z') && first != '*') {
      throw invalid();
    }
    at++;
    while (at < text.length()) {
      char c = text.charAt(at);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*') {
        at++;
      } else {
        break;
      }
    }
    return text.substring(start, at);
  }

  private Object bareItem() {
    char c = peek();
    if (c == '-' || (c >= '0' && c <= '9')) {
      return number();
    }
    if (c == '"') {
      string();
      return OTHER;
    }
    if (c == '*' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      token();
      return OTHER;
    }
    if (c == ':') {
      byteSequence();
      return OTHER;
    }
    if (c == '?') {
      at++;
      char b = peek();
      if (b != '0' && b != '1') {
        throw invalid();
      }
      at++;
      return b == '1';
    }
    throw invalid();
  }

  /** An integer (at most 15 digits) as a Long, or a decimal (at most 12 + 3 digits) as OTHER. */
  private Object number() {
    boolean negative = peek() == '-';
    if (negative) {
      at++;
    }
    int start = at;
    while (at < text.length() && text.charAt(at) >= '0' && text.charAt(at) <= '9') {
      at++;
    }
    int digits = at - start;
    if (digits == 0) {
      throw invalid();
    }
    if (peek() != '.') {
      if (digits > 15) {
        throw invalid();
      }
      long n = Long.parseLong(text.substring(start, at));
      return negative ? -n : n;
    }
    at++;
    int fraction = at;
    while (at < text.length() && text.charAt(at) >= '0' && text.charAt(at) <= '9') {
      at++;
    }
    if (digits > 12 || at == fraction || at - fraction > 3) {
      throw invalid();
    }
    return OTHER;
  }

  private void string() {
    at++;
    while (at < text.length()) {
      char c = text.charAt(at++);
      if (c == '\\') {
        char escaped = peek();
        if (escaped != '"' && escaped != '\\') {
          throw invalid();
        }
        at++;
      } else if (c == '"') {
        return;
      } else if (c < 0x20 || c > 0x7e) {
        throw invalid();
      }
    }
    throw invalid();
  }

  private void token() {
    at++;
    while (at < text.length()) {
      char c = text.charAt(at);
      if (isTchar(c) || c == ':' || c == '/') {
        at++;
      } else {
        return;
      }
    }
  }

  private void byteSequence() {
    at++;
    while (at < text.length()) {
      char c = text.charAt(at++);
      if (c == ':') {
        return;
      }
      boolean base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '+' || c == '/' || c == '=';
      if (!base64) {
        throw invalid();
      }
    }
    throw invalid();
  }

  private static boolean isTchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  private char peek() {
    return at < text.length() ? text.charAt(at) : '\0';
  }

  private void expect(char c) {
    if (peek() != c) {
      throw invalid();
    }
    at++;
  }

  private void skipSpaces() {
    while (peek() == ' ') {
      at++;
    }
  }

  private void skipWhitespace() {
    while (peek() == ' ' || peek() == '\t') {
      at++;
    }
  }

  private static IllegalArgumentException invalid() {
    return new IllegalArgumentException("not a structured dictionary");
  }
}
