package dev.meridian.proxy.http1;

import io.netty.util.AsciiString;
import java.util.List;

/**
 * A fixed set of field names that a head's bytes are matched against in place, ASCII case ignored:
 * the hop-by-hop names, for one pass over a head's fields ({@link RawHeaders#removeAll}) rather than
 * one scan per name. A set made by {@link #eitherSeparator} also matches each name spelled with
 * {@code _} for {@code -}.
 *
 * <p>Immutable; made once and shared.
 */
public final class FieldNames {
  private final AsciiString[] names;
  /** Bit {@code n % 64} is set when a name of the set is {@code n} bytes long. */
  private final long lengths;
  /** An {@code _} in a field's name matches a {@code -} in the set's. */
  private final boolean underscoreForDash;
  /** Only a spelling with at least one {@code _} matches (the dash spelling does not). */
  private final boolean underscoreRequired;

  /** A set of these names (tokens, in any case). */
  public FieldNames(List<AsciiString> names) {
    this(names, false, false);
  }

  /**
   * A set of these names (lower-case tokens) that also matches each spelled with {@code _} for
   * {@code -}, in any mix: {@code X_Forwarded_For} for {@code x-forwarded-for}. CGI, WSGI and Rack
   * servers give both spellings the same variable ({@code HTTP_X_FORWARDED_FOR}), so a field a
   * proxy removes must go in either spelling, or a client's would stand in for the proxy's.
   */
  public static FieldNames eitherSeparator(List<AsciiString> names) {
    return new FieldNames(names, true, false);
  }

  /**
   * A set that matches these names (lower-case tokens) only as spelled with at least one {@code _}
   * for {@code -}: the spellings to drop even where the dash spellings are kept.
   */
  public static FieldNames underscoreSpellings(List<AsciiString> names) {
    return new FieldNames(names, true, true);
  }

  private FieldNames(List<AsciiString> names, boolean underscoreForDash, boolean underscoreRequired) {
    this.underscoreForDash = underscoreForDash;
    this.underscoreRequired = underscoreRequired;
    this.names = names.toArray(new AsciiString[0]);
    long bits = 0;
    for (AsciiString name : this.names) {
      bits |= 1L << name.length();
    }
    this.lengths = bits;
  }

  /** Bit {@code n % 64} set for each length a name of the set has. */
  long lengths() {
    return lengths;
  }

  /** The names, in the order given. */
  AsciiString name(int index) {
    return names[index];
  }

  /** The number of names. */
  int size() {
    return names.length;
  }

  /** Whether {@code b[start, end)} is one of the names. */
  boolean contains(byte[] b, int start, int end) {
    if ((lengths & (1L << (end - start))) == 0) {
      return false;
    }
    for (AsciiString name : names) {
      if (underscoreForDash
          ? end - start == name.length() && equalsEitherSeparator(b, start, name)
              && (!underscoreRequired || hasUnderscore(b, start, end))
          : FieldText.equalsIgnoreCase(b, start, end, name)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the bytes at {@code start} (as long as {@code name}) spell the lower-case name, {@code _} for {@code -} allowed. */
  private static boolean equalsEitherSeparator(byte[] b, int start, AsciiString name) {
    for (int i = 0; i < name.length(); i++) {
      if (foldEitherSeparator(b[start + i]) != name.byteAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static boolean hasUnderscore(byte[] b, int start, int end) {
    for (int i = start; i < end; i++) {
      if (b[i] == '_') {
        return true;
      }
    }
    return false;
  }

  /** A name character in lower case, and {@code _} as {@code -}. */
  private static int foldEitherSeparator(int c) {
    return c >= 'A' && c <= 'Z' ? c + 32 : c == '_' ? '-' : c;
  }

  /** Whether the name is one of the set's, matched as {@link #contains(byte[], int, int)} matches a name in a head. */
  public boolean matches(CharSequence name) {
    if (underscoreForDash) {
      return containsEitherSeparator(name);
    }
    if ((lengths & (1L << name.length())) == 0) {
      return false;
    }
    for (AsciiString candidate : names) {
      if (candidate.contentEqualsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether any field of the headers has one of the set's names (matched as {@link #matches}): read
   * in place for a head's own fields, one pass over the names otherwise.
   */
  public boolean anyIn(io.netty.handler.codec.http.HttpHeaders headers) {
    if (headers instanceof RawHeaders raw) {
      return raw.containsAny(this);
    }
    for (var it = headers.iteratorCharSequence(); it.hasNext(); ) {
      if (matches(it.next().getKey())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the name is one of the set's, as {@link #contains(byte[], int, int)} matches a name in
   * a head (for headers not read in place); only for a set made by {@link #eitherSeparator}.
   */
  public boolean containsEitherSeparator(CharSequence name) {
    if (!underscoreForDash || (lengths & (1L << name.length())) == 0) {
      return false;
    }
    for (AsciiString candidate : names) {
      if (candidate.length() == name.length() && matchesEitherSeparator(name, candidate)
          && (!underscoreRequired || name.toString().indexOf('_') >= 0)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matchesEitherSeparator(CharSequence name, AsciiString candidate) {
    for (int i = 0; i < name.length(); i++) {
      if (foldEitherSeparator(name.charAt(i)) != candidate.byteAt(i)) {
        return false;
      }
    }
    return true;
  }
}
