package dev.meridian.proxy.http1;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map.Entry;

/**
 * The header fields of a head as it arrived, read in place: each field is three offsets into
 * the head's bytes (one array per head, no per-field object), with the edits the proxy makes kept beside them (fields
 * removed, fields added). {@link #writeTo} emits the kept field lines byte for byte, in runs, followed
 * by the added ones, so a head is never decoded into objects and encoded again.
 *
 * <p>Lookups compare bytes case-insensitively; a value becomes a {@code String} only when asked for
 * (the last one made is kept for the next ask). Field names were checked to be tokens and values to hold no
 * control character by {@link HeadParser}, so the bytes written are the bytes validated.
 *
 * <p>This class holds the fields and their lookups and edits; the rest of Netty's {@code HttpHeaders}
 * (typed getters, {@code set}, iteration) follows from those in {@link DerivedHttpHeaders}.
 *
 * <p>Not thread-safe.
 */
public final class RawHeaders extends DerivedHttpHeaders {
  /** Ints per field in the offsets array: line start, name end (its colon), value start. */
  static final int STRIDE = 3;

  private static final int[] NO_FIELDS = new int[0];

  private final byte[] head;
  /**
   * Per field ({@link #STRIDE} ints): where its line starts, where its name ends (its colon) and where
   * its value starts; a removed field's line start is ~start. A value ends where trailing whitespace
   * before the next line starts, found when asked for.
   */
  private final int[] fields;
  private final int fieldCount;
  /** Where the line after the last field starts (the empty line ending the head). */
  private final int fieldsEnd;
  /**
   * Bit {@code n % 64} is set when a raw field's name is {@code n} bytes long: most lookups and
   * removals (hop-by-hop names, X-Forwarded-*) are for names the head does not have, and this answers
   * them without a scan.
   */
  private final long nameLengths;
  /**
   * The raw field whose value was last made a {@code String} (or -1), and that string: a proxied
   * request asks for one value (Host) several times, and rarely for another.
   */
  private int stringField = -1;
  private String stringValue;
  /** Fields the first added one makes room for. */
  private final int addedRoom;
  private CharSequence[] added;
  /** As {@link #nameLengths}, for the added fields (a bit may stay set after its field went). */
  private long addedNameLengths;
  private int addedCount;
  private int removedCount;

  /**
   * Reads the fields of a head in place.
   *
   * @param head       the head's bytes, its first at index 0
   * @param fields     per field: line start, name end, value start (null when none)
   * @param fieldCount the number of fields
   * @param fieldsEnd  where the empty line ending the head starts
   * @param addedRoom  how many added fields the first addition makes room for (more still fit)
   */
  RawHeaders(byte[] head, int[] fields, int fieldCount, int fieldsEnd, int addedRoom) {
    this.head = head;
    this.fields = fields == null ? NO_FIELDS : fields;
    this.fieldCount = fieldCount;
    this.fieldsEnd = fieldsEnd;
    this.addedRoom = Math.max(1, addedRoom);
    long lengths = 0;
    for (int i = 0; i < fieldCount; i++) {
      lengths |= 1L << (this.fields[i * STRIDE + 1] - this.fields[i * STRIDE]);
    }
    this.nameLengths = lengths;
  }

  /** Whether a raw field may have this name (false: certainly none has). */
  private boolean mayHaveRaw(CharSequence name) {
    return (nameLengths & (1L << name.length())) != 0;
  }

  /** The number of added fields that may have this name: all of them, or 0 when certainly none. */
  private int addedToSearch(CharSequence name) {
    return (addedNameLengths & (1L << name.length())) != 0 ? addedCount : 0;
  }

  // ---- in-place access ---------------------------------------------------------------------

  private boolean isRemoved(int field) {
    return fields[field * STRIDE] < 0;
  }

  private int lineStart(int field) {
    int start = fields[field * STRIDE];
    return start < 0 ? ~start : start;
  }

  private boolean nameEquals(int field, CharSequence name) {
    int start = fields[field * STRIDE];
    return FieldText.equalsIgnoreCase(head, start, fields[field * STRIDE + 1], name);
  }

  /** Where a field's line ends (its CR): before the next line. */
  private int lineEnd(int field) {
    return (field + 1 < fieldCount ? lineStart(field + 1) : fieldsEnd) - 2;
  }

  private int valueStart(int field) {
    return fields[field * STRIDE + 2];
  }

  private int valueEnd(int field, int valueStart) {
    return FieldSyntax.trimEnd(head, valueStart, lineEnd(field));
  }

  private String value(int field) {
    if (field == stringField) {
      return stringValue;
    }
    int start = valueStart(field);
    String value = new String(head, start, valueEnd(field, start) - start, StandardCharsets.ISO_8859_1);
    stringField = field;
    stringValue = value;
    return value;
  }

  private String name(int field) {
    int start = fields[field * STRIDE];
    return new String(head, start, fields[field * STRIDE + 1] - start, StandardCharsets.ISO_8859_1);
  }

  private int firstField(CharSequence name) {
    if (!mayHaveRaw(name)) {
      return -1;
    }
    for (int i = 0; i < fieldCount; i++) {
      if (!isRemoved(i) && nameEquals(i, name)) {
        return i;
      }
    }
    return -1;
  }

  private int firstAdded(CharSequence name) {
    int candidates = addedToSearch(name);
    for (int i = 0; i < candidates; i++) {
      if (AsciiString.contentEqualsIgnoreCase(added[i * 2], name)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Whether a field of this name holds the token, reading comma-separated elements with optional
   * whitespace (as {@code Connection: keep-alive, Upgrade}); no {@code String} is made for raw fields.
   */
  @Override
  public boolean containsValue(CharSequence name, CharSequence token, boolean ignoreCase) {
    int rawFields = mayHaveRaw(name) ? fieldCount : 0;
    for (int i = 0; i < rawFields; i++) {
      if (!isRemoved(i) && nameEquals(i, name) && listContains(i, token, ignoreCase)) {
        return true;
      }
    }
    int candidates = addedToSearch(name);
    for (int i = 0; i < candidates; i++) {
      if (AsciiString.contentEqualsIgnoreCase(added[i * 2], name)
          && FieldText.listContains(added[i * 2 + 1], token, ignoreCase)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether every element of every field of this name is one of the names (true when there is no
   * such field): {@code Connection: keep-alive} names nothing but the hop-by-hop set. An added field
   * of this name answers false, so the caller takes its general path.
   */
  public boolean listElementsAllIn(CharSequence name, FieldNames names) {
    if (addedToSearch(name) > 0 && firstAdded(name) >= 0) {
      return false;
    }
    int rawFields = mayHaveRaw(name) ? fieldCount : 0;
    for (int i = 0; i < rawFields; i++) {
      if (!isRemoved(i) && nameEquals(i, name)) {
        int start = valueStart(i);
        if (!FieldText.listElementsIn(head, start, valueEnd(i, start), names)) {
          return false;
        }
      }
    }
    return true;
  }

  /** Whether a field, raw or added, has one of the names (see {@link FieldNames#anyIn}). */
  boolean containsAny(FieldNames names) {
    if ((nameLengths & names.lengths()) != 0) {
      for (int i = 0; i < fieldCount; i++) {
        if (!isRemoved(i) && names.contains(head, fields[i * STRIDE], fields[i * STRIDE + 1])) {
          return true;
        }
      }
    }
    for (int i = 0; i < addedCount; i++) {
      if (names.matches(added[i * 2])) {
        return true;
      }
    }
    return false;
  }

  private boolean listContains(int field, CharSequence token, boolean ignoreCase) {
    int start = valueStart(field);
    return FieldText.listContains(head, start, valueEnd(field, start), token, ignoreCase);
  }

  /**
   * Writes the field lines as they will go upstream: the kept raw lines in runs of bytes, then each
   * added field as {@code name: value}, each line ending in CR LF (the empty line is the caller's).
   */
  public void writeTo(ByteBuf out) {
    int runStart = -1;
    for (int i = 0; i < fieldCount; i++) {
      if (isRemoved(i)) {
        if (runStart >= 0) {
          out.writeBytes(head, runStart, lineStart(i) - runStart);
          runStart = -1;
        }
      } else if (runStart < 0) {
        runStart = lineStart(i);
      }
    }
    if (runStart >= 0) {
      out.writeBytes(head, runStart, fieldsEnd - runStart);
    }
    if (addedCount > 0) {
      AsciiWriter.writeFields(out, added, addedCount);
    }
  }

  /** Receives a head's fields one at a time (see {@link #forEachField}). */
  @FunctionalInterface
  public interface FieldVisitor {
    /** One field: its name as it arrived (any case) and its value. */
    void field(AsciiString name, AsciiString value);
  }

  /**
   * Hands each field as it will be written to the visitor: the kept raw fields, as views of the
   * head's bytes (nothing is copied: the head is never changed), then the added ones.
   */
  public void forEachField(FieldVisitor visitor) {
    for (int i = 0; i < fieldCount; i++) {
      if (!isRemoved(i)) {
        int name = fields[i * STRIDE];
        int value = valueStart(i);
        visitor.field(new AsciiString(head, name, fields[i * STRIDE + 1] - name, false),
            new AsciiString(head, value, valueEnd(i, value) - value, false));
      }
    }
    for (int i = 0; i < addedCount; i++) {
      visitor.field(AsciiString.of(added[i * 2]), AsciiString.of(added[i * 2 + 1]));
    }
  }

  /**
   * Writes the headers' field lines when they are raw ones (see {@link #writeTo}); returns false,
   * writing nothing, for any other headers (which the caller encodes itself).
   */
  static boolean writeIfRaw(HttpHeaders headers, ByteBuf out) {
    if (headers instanceof RawHeaders raw) {
      raw.writeTo(out);
      return true;
    }
    return false;
  }

  // ---- HttpHeaders: reading ----------------------------------------------------------------

  @Override
  public String get(CharSequence name) {
    int field = firstField(name);
    if (field >= 0) {
      return value(field);
    }
    int extra = firstAdded(name);
    return extra < 0 ? null : added[extra * 2 + 1].toString();
  }

  /**
   * As {@link #get(CharSequence)}, but when the first raw field of this name holds exactly the
   * characters of {@code candidate}, returns {@code candidate} itself instead of a new
   * {@code String} (and later asks for the field get it too): a connection's requests mostly repeat
   * the value its last one had, Host above all.
   */
  public String getReusing(CharSequence name, String candidate) {
    int field = firstField(name);
    if (field < 0 || candidate == null || field == stringField) {
      return get(name);
    }
    int start = valueStart(field);
    int end = valueEnd(field, start);
    if (end - start != candidate.length()) {
      return value(field);
    }
    for (int i = start; i < end; i++) {
      if ((head[i] & 0xff) != candidate.charAt(i - start)) {
        return value(field);
      }
    }
    stringField = field;
    stringValue = candidate;
    return candidate;
  }

  @Override
  public List<String> getAll(CharSequence name) {
    List<String> values = null;
    int rawFields = mayHaveRaw(name) ? fieldCount : 0;
    for (int i = 0; i < rawFields; i++) {
      if (!isRemoved(i) && nameEquals(i, name)) {
        values = values == null ? new ArrayList<>(2) : values;
        values.add(value(i));
      }
    }
    int candidates = addedToSearch(name);
    for (int i = 0; i < candidates; i++) {
      if (AsciiString.contentEqualsIgnoreCase(added[i * 2], name)) {
        values = values == null ? new ArrayList<>(2) : values;
        values.add(added[i * 2 + 1].toString());
      }
    }
    return values == null ? Collections.emptyList() : values;
  }

  @Override
  public boolean contains(CharSequence name) {
    return firstField(name) >= 0 || firstAdded(name) >= 0;
  }

  @Override
  public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
    int rawFields = mayHaveRaw(name) ? fieldCount : 0;
    for (int i = 0; i < rawFields; i++) {
      if (!isRemoved(i) && nameEquals(i, name)
          && FieldText.regionEquals(head, valueStart(i), valueEnd(i, valueStart(i)), value, ignoreCase)) {
        return true;
      }
    }
    int candidates = addedToSearch(name);
    for (int i = 0; i < candidates; i++) {
      if (AsciiString.contentEqualsIgnoreCase(added[i * 2], name)
          && (ignoreCase ? AsciiString.contentEqualsIgnoreCase(added[i * 2 + 1], value)
              : AsciiString.contentEquals(added[i * 2 + 1], value))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public List<Entry<String, String>> entries() {
    List<Entry<String, String>> entries = new ArrayList<>(size());
    for (int i = 0; i < fieldCount; i++) {
      if (!isRemoved(i)) {
        entries.add(new SimpleImmutableEntry<>(name(i), value(i)));
      }
    }
    for (int i = 0; i < addedCount; i++) {
      entries.add(new SimpleImmutableEntry<>(added[i * 2].toString(), added[i * 2 + 1].toString()));
    }
    return entries;
  }

  @Override
  public int size() {
    return fieldCount - removedCount + addedCount;
  }

  // ---- HttpHeaders: editing (kept beside the raw fields) -----------------------------------

  @Override
  public HttpHeaders add(CharSequence name, Object value) {
    CharSequence text = value instanceof CharSequence cs ? cs : String.valueOf(value);
    FieldSyntax.checkAddedField(name, text);
    if (added == null) {
      added = new CharSequence[addedRoom * 2];
    } else if (addedCount * 2 == added.length) {
      added = java.util.Arrays.copyOf(added, added.length * 2);
    }
    added[addedCount * 2] = name;
    added[addedCount * 2 + 1] = text;
    addedCount++;
    addedNameLengths |= 1L << name.length();
    return this;
  }

  @Override
  public HttpHeaders remove(CharSequence name) {
    int rawFields = mayHaveRaw(name) ? fieldCount : 0;
    for (int i = 0; i < rawFields; i++) {
      if (!isRemoved(i) && nameEquals(i, name)) {
        fields[i * STRIDE] = ~fields[i * STRIDE];
        removedCount++;
      }
    }
    removeAdded(name);
    return this;
  }

  private void removeAdded(CharSequence name) {
    if (addedToSearch(name) == 0) {
      return;
    }
    int kept = 0;
    for (int i = 0; i < addedCount; i++) {
      if (!AsciiString.contentEqualsIgnoreCase(added[i * 2], name)) {
        added[kept * 2] = added[i * 2];
        added[kept * 2 + 1] = added[i * 2 + 1];
        kept++;
      }
    }
    for (int i = kept; i < addedCount; i++) {
      added[i * 2] = null;
      added[i * 2 + 1] = null;
    }
    addedCount = kept;
  }

  /**
   * Removes every field whose name is in the set, in one pass over the raw fields (rather than one
   * scan per name, as {@link #remove} for each would be), and the added ones of those names.
   */
  public void removeAll(FieldNames names) {
    if ((nameLengths & names.lengths()) != 0) {
      for (int i = 0; i < fieldCount; i++) {
        int start = fields[i * STRIDE];
        if (start >= 0 && names.contains(head, start, fields[i * STRIDE + 1])) {
          fields[i * STRIDE] = ~start;
          removedCount++;
        }
      }
    }
    if ((addedNameLengths & names.lengths()) != 0) {
      for (int n = 0; n < names.size(); n++) {
        removeAdded(names.name(n));
      }
    }
  }

  @Override
  public HttpHeaders clear() {
    for (int i = 0; i < fieldCount; i++) {
      if (!isRemoved(i)) {
        fields[i * STRIDE] = ~fields[i * STRIDE];
        removedCount++;
      }
    }
    if (added != null) {
      java.util.Arrays.fill(added, null);
    }
    addedCount = 0;
    return this;
  }
}
