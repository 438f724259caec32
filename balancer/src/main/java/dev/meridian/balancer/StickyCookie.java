package dev.meridian.balancer;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Issues and checks sticky-session cookies: a value names the backend a client is pinned to, so any
 * Meridian instance with the same keys sends the client there, and no client can forge or move a pin.
 *
 * <p>A value is base64url (no padding) of these bytes, at most 94 characters:
 * <pre>
 *   1      version (1)
 *   1      length n of the key id (1-16)
 *   n      key id (ASCII): which key signed it
 *   4      issue time, epoch seconds (unsigned)
 *   4      group   = high 32 bits of a stable 64-bit hash of the group's name
 *   8      backend = stable 64-bit hash of group name + NUL + backend id
 *   4      region  = high 32 bits of the stable hash of the backend's region
 *   32     HMAC-SHA256 of all the bytes above, under the key
 * </pre>
 * Backends are named by hashes of their configured ids, never by address: the same on every instance
 * and across reloads, and the topology is not spelled out to clients. The value is signed rather than
 * sealed (AES-GCM): nothing in it is secret beyond the hashes, and a signature needs no nonce
 * management across a fleet. Signatures are compared in constant time.
 *
 * <p>The first key signs; every key verifies, so a key is rotated by adding the new one first, and
 * retiring the old one after the cookie lifetime. Reading allocates nothing: the answer is a
 * {@link Claim} owned by the calling thread. Thread-safe and immutable (a new instance per key set).
 */
public final class StickyCookie {
  /** Longest key id, in ASCII characters. */
  public static final int MAX_KEY_ID = 16;
  /** Shortest secret, in bytes (128 bits); 32 are recommended. */
  public static final int MIN_SECRET = 16;
  /** How far in the future an issue time may be (another instance's clock runs ahead), in seconds. */
  public static final long MAX_CLOCK_SKEW_SECONDS = 300;
  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_KEY_ID + "}");
  private static final int VERSION = 1;
  private static final int FIXED = 1 + 1 + 4 + 4 + 8 + 4;
  private static final int MIN_BYTES = FIXED + 1 + HmacSha256.LENGTH;
  private static final int MAX_BYTES = FIXED + MAX_KEY_ID + HmacSha256.LENGTH;
  private static final int MIN_CHARS = (MIN_BYTES * 4 + 2) / 3;
  private static final int MAX_CHARS = (MAX_BYTES * 4 + 2) / 3;

  /**
   * One signing key.
   *
   * @param id     short name carried in each cookie: 1-16 of {@code A-Z a-z 0-9 . _ -}
   * @param secret at least 16 bytes (32 recommended)
   */
  public record Key(String id, byte[] secret) {
    /** Whether a key id may be used: 1-16 of {@code A-Z a-z 0-9 . _ -}. */
    public static boolean isValidId(String id) {
      return id != null && KEY_ID.matcher(id).matches();
    }

    /** Checks the id and the secret's length, and copies the secret. */
    public Key {
      if (!isValidId(id)) {
        throw new IllegalArgumentException("key id: '" + id + "' (expected: 1-" + MAX_KEY_ID
            + " characters of A-Z a-z 0-9 . _ -)");
      }
      if (secret == null || secret.length < MIN_SECRET) {
        throw new IllegalArgumentException("secret of key '" + id + "': " + (secret == null ? 0 : secret.length)
            + " bytes (expected: at least " + MIN_SECRET + ", 32 recommended)");
      }
      secret = secret.clone();
    }

    /** A copy of the secret. */
    @Override
    public byte[] secret() {
      return secret.clone();
    }
  }

  /** Why a cookie value was not honoured (labels are metric tag values). */
  public enum Invalid {
    /** Not a value this codec wrote: wrong length, alphabet, version or layout (truncated, mangled). */
    MALFORMED("malformed"),
    /** Signed by a key this instance does not hold (retired, or another fleet's). */
    UNKNOWN_KEY("unknown-key"),
    /** The signature does not match: the value was altered. */
    BAD_SIGNATURE("bad-signature"),
    /** Genuine, but issued for another backend group. */
    OTHER_GROUP("other-group"),
    /** Genuine, but older than the lifetime (or issued further in the future than clocks drift). */
    EXPIRED("expired");

    private final String label;

    Invalid(String label) {
      this.label = label;
    }

    /** The reason as a metric tag value and log word. */
    public String label() {
      return label;
    }
  }

  /**
   * What a read found: a genuine pin (then {@link #backendHash()} and {@link #regionHash()} say where)
   * or why the value was refused (then the other fields mean nothing). Owned by one thread and
   * overwritten by its next read.
   */
  public static final class Claim {
    private Invalid invalid;
    private long backendHash;
    private int regionHash;
    private long issuedAtSeconds;

    /** Whether the value was genuine, for this group and in time. */
    public boolean isValid() {
      return invalid == null;
    }

    /** Why the value was refused; null when valid. */
    public Invalid invalid() {
      return invalid;
    }

    /** The pinned backend, as {@link StickyCookie#backendHash}. */
    public long backendHash() {
      return backendHash;
    }

    /** The pinned backend's region, as {@link StickyCookie#regionHash}. */
    public int regionHash() {
      return regionHash;
    }

    /** When the pin was made, epoch seconds. */
    public long issuedAtSeconds() {
      return issuedAtSeconds;
    }

    private Claim refuse(Invalid why) {
      invalid = why;
      return this;
    }
  }

  /** Per-thread working space: decoded bytes, a tag, a MAC per key, and the answer. */
  private static final class Scratch {
    final byte[] bytes = new byte[MAX_BYTES];
    final byte[] tag = new byte[HmacSha256.LENGTH];
    final HmacSha256[] macs;
    final Claim claim = new Claim();

    Scratch(List<Key> keys) {
      macs = new HmacSha256[keys.size()];
      for (int i = 0; i < macs.length; i++) {
        macs[i] = new HmacSha256(keys.get(i).secret());
      }
    }
  }

  private final List<Key> keys;
  private final byte[][] keyIds;
  private final ThreadLocal<Scratch> scratch;

  /**
   * Creates the codec for a key set.
   *
   * @param keys at least one; the first signs, all verify; ids distinct
   */
  public StickyCookie(List<Key> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("keys: none (expected: at least one)");
    }
    Set<String> ids = new HashSet<>();
    for (Key k : keys) {
      if (!ids.add(k.id())) {
        throw new IllegalArgumentException("key id '" + k.id() + "' appears twice (expected: distinct ids)");
      }
    }
    this.keys = List.copyOf(keys);
    this.keyIds = new byte[keys.size()][];
    for (int i = 0; i < keyIds.length; i++) {
      keyIds[i] = keys.get(i).id().getBytes(StandardCharsets.US_ASCII);
    }
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(this.keys));
  }

  /** A codec with one random key: its cookies are honoured by this process only. */
  public static StickyCookie withRandomKey() {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    return new StickyCookie(List.of(new Key("local", secret)));
  }

  /** The key ids, the signing key first. */
  public List<String> keyIds() {
    List<String> out = new ArrayList<>();
    keys.forEach(k -> out.add(k.id()));
    return out;
  }

  /** The hash a cookie names a group by. */
  public static int groupHash(String group) {
    return (int) (Hash64.of(group) >>> 32);
  }

  /** The hash a cookie names a backend by: stable for a group name and backend id. */
  public static long backendHash(String group, String backendId) {
    return Hash64.of(group + '\0' + backendId);
  }

  /** The hash a cookie names a region by. */
  public static int regionHash(String region) {
    return (int) (Hash64.of(region.toLowerCase(Locale.ROOT)) >>> 32);
  }

  /** The cookie value pinning a client to a backend of a group, signed with the first key. */
  public String issue(String group, String backendId, String region, long nowSeconds) {
    byte[] id = keyIds[0];
    int n = FIXED + id.length;
    byte[] out = new byte[n + HmacSha256.LENGTH];
    int p = 0;
    out[p++] = VERSION;
    out[p++] = (byte) id.length;
    System.arraycopy(id, 0, out, p, id.length);
    p += id.length;
    p = putInt(out, p, (int) nowSeconds);
    p = putInt(out, p, groupHash(group));
    p = putLong(out, p, backendHash(group, backendId));
    p = putInt(out, p, regionHash(region));
    scratch.get().macs[0].tag(out, 0, n, out, n);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
  }

  /**
   * Reads a cookie value: {@code text[start, end)}.
   *
   * @param groupHash  the group the request's route sends to ({@link #groupHash})
   * @param nowSeconds the current time, epoch seconds
   * @param ttlSeconds how long a pin is honoured after it was issued
   * @return this thread's claim, valid until the thread's next read
   */
  public Claim read(CharSequence text, int start, int end, int groupHash, long nowSeconds, long ttlSeconds) {
    Scratch s = scratch.get();
    Claim claim = s.claim;
    claim.invalid = null;
    int chars = end - start;
    if (chars < MIN_CHARS || chars > MAX_CHARS) {
      return claim.refuse(Invalid.MALFORMED);
    }
    byte[] b = s.bytes;
    int n = Base64Url.decode(text, start, end, b);
    if (n < MIN_BYTES || b[0] != VERSION) {
      return claim.refuse(Invalid.MALFORMED);
    }
    int idLength = b[1];
    if (idLength < 1 || idLength > MAX_KEY_ID || n != FIXED + idLength + HmacSha256.LENGTH) {
      return claim.refuse(Invalid.MALFORMED);
    }
    int key = findKey(b, 2, idLength);
    if (key < 0) {
      return claim.refuse(Invalid.UNKNOWN_KEY);
    }
    int signed = FIXED + idLength;
    s.macs[key].tag(b, 0, signed, s.tag, 0);
    int diff = 0;
    for (int i = 0; i < HmacSha256.LENGTH; i++) {
      diff |= s.tag[i] ^ b[signed + i];
    }
    if (diff != 0) {
      return claim.refuse(Invalid.BAD_SIGNATURE);
    }
    int p = 2 + idLength;
    claim.issuedAtSeconds = getInt(b, p) & 0xffffffffL;
    if (getInt(b, p + 4) != groupHash) {
      return claim.refuse(Invalid.OTHER_GROUP);
    }
    claim.backendHash = getLong(b, p + 8);
    claim.regionHash = getInt(b, p + 16);
    long age = nowSeconds - claim.issuedAtSeconds;
    if (age >= ttlSeconds || age < -MAX_CLOCK_SKEW_SECONDS) {
      return claim.refuse(Invalid.EXPIRED);
    }
    return claim;
  }

  /** Reads a whole cookie value; see {@link #read(CharSequence, int, int, int, long, long)}. */
  public Claim read(CharSequence value, int groupHash, long nowSeconds, long ttlSeconds) {
    return read(value, 0, value.length(), groupHash, nowSeconds, ttlSeconds);
  }

  private int findKey(byte[] b, int offset, int length) {
    for (int k = 0; k < keyIds.length; k++) {
      byte[] id = keyIds[k];
      if (id.length != length) {
        continue;
      }
      boolean same = true;
      for (int i = 0; i < length && same; i++) {
        same = id[i] == b[offset + i];
      }
      if (same) {
        return k;
      }
    }
    return -1;
  }

  private static int putInt(byte[] b, int p, int v) {
    b[p] = (byte) (v >>> 24);
    b[p + 1] = (byte) (v >>> 16);
    b[p + 2] = (byte) (v >>> 8);
    b[p + 3] = (byte) v;
    return p + 4;
  }

  private static int putLong(byte[] b, int p, long v) {
    putInt(b, p, (int) (v >>> 32));
    return putInt(b, p + 4, (int) v);
  }

  private static int getInt(byte[] b, int p) {
    return (b[p] & 0xff) << 24 | (b[p + 1] & 0xff) << 16 | (b[p + 2] & 0xff) << 8 | (b[p + 3] & 0xff);
  }

  private static long getLong(byte[] b, int p) {
    return (long) getInt(b, p) << 32 | (getInt(b, p + 4) & 0xffffffffL);
  }
}
