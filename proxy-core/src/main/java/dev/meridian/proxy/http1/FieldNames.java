package dev.meridian.proxy.http1;

import io.netty.util.AsciiString;
import java.util.List;

/**
 * A fixed set of field names that a head's bytes are matched against in place, ASCII case ignored:
 * the hop-by-hop names, for one pass over a head's fields ({@link RawHeaders#removeAll}) rather than
 * one scan per name.
 *
 * <p>Immutable; made once and shared.
 */
public final class FieldNames {
  private final AsciiString[] names;
  /** Bit {@code n % 64} is set when a name of the set is {@code n} bytes long. */
  private final long lengths;

  /** A set of these names (tokens, in any case). */
  public FieldNames(List<AsciiString> names) {
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
      if (FieldText.equalsIgnoreCase(b, start, end, name)) {
        return true;
      }
    }
    return false;
  }
}
