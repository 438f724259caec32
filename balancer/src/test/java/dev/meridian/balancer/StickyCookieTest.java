package dev.meridian.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class StickyCookieTest {
  private static final long NOW = 1_700_000_000L;
  private static final long TTL = 3600;
  private static final String GROUP = "checkout";
  private static final int GROUP_HASH = StickyCookie.groupHash(GROUP);

  private static final StickyCookie.Key OLD = key("k-2023", 1);
  private static final StickyCookie.Key NEW = key("k-2024", 2);
  private final StickyCookie codec = new StickyCookie(List.of(OLD));

  /** A key whose 32-byte secret is derived from the seed. */
  private static StickyCookie.Key key(String id, int seed) {
    byte[] secret = new byte[32];
    new Random(seed).nextBytes(secret);
    return new StickyCookie.Key(id, secret);
  }

  private static byte[] decode(String value) {
    return Base64.getUrlDecoder().decode(value);
  }

  private static String encode(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private StickyCookie.Invalid readInvalid(StickyCookie c, CharSequence value) {
    return c.read(value, GROUP_HASH, NOW, TTL).invalid();
  }

  @Test
  void anIssuedCookieReadsBackAsItsBackendAndRegion() {
    String value = codec.issue(GROUP, "eu-west-2", "eu-west", NOW);

    StickyCookie.Claim claim = codec.read(value, GROUP_HASH, NOW, TTL);

    assertThat(claim.isValid()).isTrue();
    assertThat(claim.invalid()).isNull();
    assertThat(claim.backendHash()).isEqualTo(StickyCookie.backendHash(GROUP, "eu-west-2"));
    assertThat(claim.regionHash()).isEqualTo(StickyCookie.regionHash("eu-west"));
    assertThat(claim.issuedAtSeconds()).isEqualTo(NOW);
  }

  @Test
  void hashesNameBackendsPerGroupAndRegionsWhateverTheirCase() {
    assertThat(StickyCookie.backendHash("a", "b1")).isNotEqualTo(StickyCookie.backendHash("b", "b1"));
    assertThat(StickyCookie.backendHash("a", "b1")).isNotEqualTo(StickyCookie.backendHash("a", "b2"));
    // The separator keeps "ab" + "c" and "a" + "bc" apart.
    assertThat(StickyCookie.backendHash("ab", "c")).isNotEqualTo(StickyCookie.backendHash("a", "bc"));
    assertThat(StickyCookie.regionHash("EU-West")).isEqualTo(StickyCookie.regionHash("eu-west"));
    assertThat(StickyCookie.regionHash("eu-west")).isNotEqualTo(StickyCookie.regionHash("us-east"));
    assertThat(StickyCookie.groupHash("checkout")).isNotEqualTo(StickyCookie.groupHash("catalog"));
  }

  @Test
  void theValueIsUnpaddedBase64UrlOfAtMost100CharactersEvenWithTheLongestKeyId() {
    StickyCookie longest = new StickyCookie(List.of(key("abcdefghijklmnop", 3)));
    String value = longest.issue("a-group-with-a-rather-long-name", "backend-with-a-long-id-0042",
        "ap-southeast-2", NOW);

    assertThat(value).matches("[A-Za-z0-9_-]+").doesNotContain("=");
    // 22 fixed bytes + 16 of key id + 32 of signature = 70 bytes: 94 characters.
    assertThat(value).hasSize(94);
    assertThat(value.length()).isLessThanOrEqualTo(100);
    assertThat(longest.read(value, StickyCookie.groupHash("a-group-with-a-rather-long-name"), NOW, TTL).isValid())
        .isTrue();
    // Key id "k-2023": 22 + 6 + 32 = 60 bytes, 80 characters.
    assertThat(codec.issue(GROUP, "b", "r", NOW)).hasSize(80).matches("[A-Za-z0-9_-]+");
  }

  @Test
  void theLayoutIsVersionKeyIdTimeGroupBackendRegionThenSignature() throws Exception {
    byte[] bytes = decode(codec.issue(GROUP, "b7", "us-east", NOW));

    assertThat(bytes).hasSize(22 + 6 + 32);
    assertThat(bytes[0]).isEqualTo((byte) 1);
    assertThat(bytes[1]).isEqualTo((byte) 6);
    assertThat(new String(bytes, 2, 6, StandardCharsets.US_ASCII)).isEqualTo("k-2023");
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes, 8, 20);
    assertThat(b.getInt() & 0xffffffffL).isEqualTo(NOW);
    assertThat(b.getInt()).isEqualTo(GROUP_HASH);
    assertThat(b.getLong()).isEqualTo(StickyCookie.backendHash(GROUP, "b7"));
    assertThat(b.getInt()).isEqualTo(StickyCookie.regionHash("us-east"));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(OLD.secret(), "HmacSHA256"));
    mac.update(bytes, 0, 28);
    assertThat(java.util.Arrays.copyOfRange(bytes, 28, 60)).isEqualTo(mac.doFinal());
  }

  static Stream<Arguments> keyAndDataLengths() {
    List<Arguments> out = new ArrayList<>();
    for (int keyLength : new int[] {1, 16, 32, 63, 64, 65, 100, 200}) {
      for (int dataLength : new int[] {0, 1, 55, 56, 63, 64, 65, 128, 1000}) {
        out.add(Arguments.of(keyLength, dataLength));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "key {0} bytes, data {1} bytes")
  @MethodSource("keyAndDataLengths")
  void hmacSha256MatchesTheJdkMac(int keyLength, int dataLength) throws Exception {
    Random random = new Random(31L * keyLength + dataLength);
    byte[] key = new byte[keyLength];
    random.nextBytes(key);
    // The data sits inside a larger array, and the tag is written at an offset of another.
    byte[] data = new byte[dataLength + 10];
    random.nextBytes(data);
    Mac jdk = Mac.getInstance("HmacSHA256");
    jdk.init(new SecretKeySpec(key, "HmacSHA256"));
    jdk.update(data, 3, dataLength);
    byte[] expected = jdk.doFinal();

    HmacSha256 mac = new HmacSha256(key);
    byte[] out = new byte[HmacSha256.LENGTH + 7];
    mac.tag(data, 3, dataLength, out, 5);
    assertThat(java.util.Arrays.copyOfRange(out, 5, 5 + HmacSha256.LENGTH)).isEqualTo(expected);
    assertThat(out).startsWith(0, 0, 0, 0, 0).endsWith(0, 0);

    // A second tag from the same instance starts from a clean state.
    byte[] again = new byte[HmacSha256.LENGTH];
    mac.tag(data, 3, dataLength, again, 0);
    assertThat(again).isEqualTo(expected);
  }

  @Test
  void everyFlippedByteIsRefusedForTheRightReason() {
    String value = codec.issue(GROUP, "b1", "us-east", NOW);
    byte[] genuine = decode(value);
    int idLength = genuine[1];
    int signatureStart = genuine.length - HmacSha256.LENGTH;
    for (int i = 0; i < genuine.length; i++) {
      for (int mask : new int[] {0x01, 0x80, 0xff}) {
        byte[] tampered = genuine.clone();
        tampered[i] ^= (byte) mask;
        StickyCookie.Claim claim = codec.read(encode(tampered), GROUP_HASH, NOW, TTL);
        String what = "byte " + i + " ^ 0x" + Integer.toHexString(mask);
        assertThat(claim.isValid()).as(what).isFalse();
        if (i < 2) {
          assertThat(claim.invalid()).as(what + " (version, id length)").isEqualTo(StickyCookie.Invalid.MALFORMED);
        } else if (i < 2 + idLength) {
          assertThat(claim.invalid()).as(what + " (key id)").isEqualTo(StickyCookie.Invalid.UNKNOWN_KEY);
        } else {
          // The signed fields and the signature itself.
          assertThat(claim.invalid()).as(what + (i >= signatureStart ? " (signature)" : " (signed field)"))
              .isEqualTo(StickyCookie.Invalid.BAD_SIGNATURE);
        }
      }
    }
    assertThat(codec.read(value, GROUP_HASH, NOW, TTL).isValid()).isTrue();
  }

  @Test
  void aFlippedKeyIdNamesAKeyThisCodecDoesNotHold() {
    byte[] tampered = decode(codec.issue(GROUP, "b1", "us-east", NOW));
    tampered[2] = 'K';
    assertThat(readInvalid(codec, encode(tampered))).isEqualTo(StickyCookie.Invalid.UNKNOWN_KEY);
  }

  @Test
  void everyTruncationIsMalformedAndNothingThrows() {
    String value = new StickyCookie(List.of(key("abcdefghijklmnop", 3))).issue(GROUP, "b1", "us-east", NOW);
    StickyCookie longest = new StickyCookie(List.of(key("abcdefghijklmnop", 3)));
    for (int length = 0; length < value.length(); length++) {
      assertThat(longest.read(value.substring(0, length), GROUP_HASH, NOW, TTL).invalid())
          .as("first %d characters", length).isEqualTo(StickyCookie.Invalid.MALFORMED);
      assertThat(longest.read(value, 0, length, GROUP_HASH, NOW, TTL).invalid())
          .as("range [0, %d)", length).isEqualTo(StickyCookie.Invalid.MALFORMED);
      assertThat(longest.read(value.substring(value.length() - length), GROUP_HASH, NOW, TTL).isValid())
          .as("last %d characters", length).isFalse();
    }
    assertThat(longest.read(value, GROUP_HASH, NOW, TTL).isValid()).isTrue();
  }

  @Test
  void everyTruncationOfTheDecodedBytesIsMalformed() {
    byte[] genuine = decode(codec.issue(GROUP, "b1", "us-east", NOW));
    for (int length = 0; length < genuine.length; length++) {
      assertThat(readInvalid(codec, encode(java.util.Arrays.copyOf(genuine, length))))
          .as("first %d bytes", length).isEqualTo(StickyCookie.Invalid.MALFORMED);
    }
    byte[] longer = java.util.Arrays.copyOf(genuine, genuine.length + 1);
    assertThat(readInvalid(codec, encode(longer))).as("one byte appended").isEqualTo(StickyCookie.Invalid.MALFORMED);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "", "!!!", "=", "mrd=", "a", "AAAA", "déjà vu",
      "\u0000\u0000\u0000\u0000", "\uD83D\uDE00\uD83D\uDE00"})
  void garbageIsMalformed(String value) {
    assertThat(readInvalid(codec, value)).isEqualTo(StickyCookie.Invalid.MALFORMED);
  }

  @Test
  void mangledValuesOfAPlausibleLengthAreMalformed() {
    String value = codec.issue(GROUP, "b1", "us-east", NOW);
    assertThat(value).hasSize(80);
    List<String> mangled = List.of(
        value + "=",                                   // padding
        value + "====",
        value.substring(0, 78) + "==",                 // padding in place of the last characters
        value.substring(0, 10) + "+" + value.substring(11), // standard base64 alphabet
        value.substring(0, 10) + "/" + value.substring(11),
        value.substring(0, 10) + "é" + value.substring(11), // non-ASCII
        value.substring(0, 10) + "\u0100" + value.substring(11), // 'A' + 256: must not alias to 'A'
        value.substring(0, 10) + " " + value.substring(11),
        "A".repeat(80),                                // version 0
        "é".repeat(80),
        "x".repeat(10_000),
        value.repeat(2));
    for (String m : mangled) {
      assertThat(readInvalid(codec, m)).as(m).isEqualTo(StickyCookie.Invalid.MALFORMED);
    }
  }

  @Test
  void aWrongVersionOrKeyIdLengthIsMalformed() {
    byte[] genuine = decode(codec.issue(GROUP, "b1", "us-east", NOW));
    for (int version : new int[] {0, 2, 0x81}) {
      byte[] b = genuine.clone();
      b[0] = (byte) version;
      assertThat(readInvalid(codec, encode(b))).as("version %d", version).isEqualTo(StickyCookie.Invalid.MALFORMED);
    }
    for (int idLength : new int[] {0, 5, 7, 17, -1, 127}) {
      byte[] b = genuine.clone();
      b[1] = (byte) idLength;
      assertThat(readInvalid(codec, encode(b))).as("key id length %d", idLength)
          .isEqualTo(StickyCookie.Invalid.MALFORMED);
    }
  }

  @Test
  void aPinIsHonouredUntilItsLifetimeEnds() {
    String value = codec.issue(GROUP, "b1", "us-east", NOW);

    assertThat(codec.read(value, GROUP_HASH, NOW + TTL - 1, TTL).isValid()).isTrue();
    StickyCookie.Claim expired = codec.read(value, GROUP_HASH, NOW + TTL, TTL);
    assertThat(expired.invalid()).isEqualTo(StickyCookie.Invalid.EXPIRED);
    assertThat(codec.read(value, GROUP_HASH, NOW + 10 * TTL, TTL).invalid()).isEqualTo(StickyCookie.Invalid.EXPIRED);
    assertThat(codec.read(value, GROUP_HASH, NOW, 0).invalid()).as("lifetime 0").isEqualTo(StickyCookie.Invalid.EXPIRED);
  }

  @Test
  void aCookieFromAClockAheadIsHonouredWithinTheSkewOnly() {
    long skew = StickyCookie.MAX_CLOCK_SKEW_SECONDS;
    String fromTheFuture = codec.issue(GROUP, "b1", "us-east", NOW + skew);
    assertThat(codec.read(fromTheFuture, GROUP_HASH, NOW, TTL).isValid()).as("issued %d s ahead", skew).isTrue();

    String tooFarAhead = codec.issue(GROUP, "b1", "us-east", NOW + skew + 1);
    assertThat(codec.read(tooFarAhead, GROUP_HASH, NOW, TTL).invalid()).as("issued %d s ahead", skew + 1)
        .isEqualTo(StickyCookie.Invalid.EXPIRED);
    assertThat(codec.read(tooFarAhead, GROUP_HASH, NOW + 1, TTL).isValid()).isTrue();
  }

  @Test
  void issueTimesAfter2038ReadBackUnsigned() {
    long in2100 = 4_102_444_800L;
    String value = codec.issue(GROUP, "b1", "us-east", in2100);
    StickyCookie.Claim claim = codec.read(value, GROUP_HASH, in2100 + 1, TTL);
    assertThat(claim.isValid()).isTrue();
    assertThat(claim.issuedAtSeconds()).isEqualTo(in2100);
  }

  @Test
  void aCookieOfAnotherGroupIsRefused() {
    String value = codec.issue("catalog", "b1", "us-east", NOW);
    assertThat(readInvalid(codec, value)).isEqualTo(StickyCookie.Invalid.OTHER_GROUP);
    assertThat(codec.read(value, StickyCookie.groupHash("catalog"), NOW, TTL).isValid()).isTrue();
  }

  @Test
  void aRotatedKeyStillVerifiesOldCookiesAndSignsNewOnes() {
    StickyCookie before = new StickyCookie(List.of(OLD));
    StickyCookie during = new StickyCookie(List.of(NEW, OLD));
    StickyCookie after = new StickyCookie(List.of(NEW));
    String oldCookie = before.issue(GROUP, "b1", "us-east", NOW);

    assertThat(during.keyIds()).containsExactly("k-2024", "k-2023");
    assertThat(during.read(oldCookie, GROUP_HASH, NOW, TTL).isValid()).isTrue();
    String newCookie = during.issue(GROUP, "b1", "us-east", NOW);
    assertThat(new String(decode(newCookie), 2, 6, StandardCharsets.US_ASCII)).isEqualTo("k-2024");
    assertThat(after.read(newCookie, GROUP_HASH, NOW, TTL).isValid()).isTrue();
    assertThat(readInvalid(before, newCookie)).isEqualTo(StickyCookie.Invalid.UNKNOWN_KEY);
    assertThat(readInvalid(after, oldCookie)).isEqualTo(StickyCookie.Invalid.UNKNOWN_KEY);
  }

  @Test
  void aKeyWithTheSameIdButAnotherSecretSeesABadSignature() {
    String value = codec.issue(GROUP, "b1", "us-east", NOW);
    StickyCookie impostor = new StickyCookie(List.of(key("k-2023", 99)));
    assertThat(readInvalid(impostor, value)).isEqualTo(StickyCookie.Invalid.BAD_SIGNATURE);
    StickyCookie random = StickyCookie.withRandomKey();
    assertThat(random.keyIds()).containsExactly("local");
    assertThat(random.read(random.issue(GROUP, "b1", "us-east", NOW), GROUP_HASH, NOW, TTL).isValid()).isTrue();
    assertThat(readInvalid(StickyCookie.withRandomKey(), random.issue(GROUP, "b1", "us-east", NOW)))
        .isEqualTo(StickyCookie.Invalid.BAD_SIGNATURE);
  }

  @ParameterizedTest(name = "[{index}] ''{0}''")
  @ValueSource(strings = {"", "has space", "abcdefghijklmnopq", "ünï", "a/b", "k=1", "a;b"})
  void aBadKeyIdIsRefusedByName(String id) {
    assertThatThrownBy(() -> new StickyCookie.Key(id, new byte[32]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key id: '" + id + "'")
        .hasMessageContaining("1-16 characters");
  }

  @Test
  void aMissingKeyIdOrSecretOrAShortSecretIsRefusedByName() {
    assertThatThrownBy(() -> new StickyCookie.Key(null, new byte[32]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key id: 'null'");
    assertThatThrownBy(() -> new StickyCookie.Key("k1", new byte[15]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secret of key 'k1': 15 bytes")
        .hasMessageContaining("at least 16");
    assertThatThrownBy(() -> new StickyCookie.Key("k1", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("secret of key 'k1': 0 bytes");
    assertThat(new StickyCookie.Key("abcdefghijklmnop", new byte[16]).id()).isEqualTo("abcdefghijklmnop");
    assertThat(new StickyCookie.Key("A.z_0-9", new byte[16]).id()).isEqualTo("A.z_0-9");
  }

  @Test
  void aKeySetWithoutKeysOrWithADuplicateIdIsRefused() {
    assertThatThrownBy(() -> new StickyCookie(List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keys: none");
    assertThatThrownBy(() -> new StickyCookie(List.of(OLD, NEW, key("k-2023", 7))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key id 'k-2023' appears twice");
  }

  @Test
  void theKeyCopiesItsSecret() {
    byte[] secret = new byte[32];
    new Random(5).nextBytes(secret);
    StickyCookie.Key key = new StickyCookie.Key("k", secret);
    String value = new StickyCookie(List.of(key)).issue(GROUP, "b1", "us-east", NOW);
    java.util.Arrays.fill(secret, (byte) 0);
    assertThat(new StickyCookie(List.of(key)).read(value, GROUP_HASH, NOW, TTL).isValid()).isTrue();
  }

  @Test
  void aValueIsReadInPlaceInsideACookieHeader() {
    String value = codec.issue(GROUP, "b1", "us-east", NOW);
    String header = "a=1; mrd=" + value + "; b=2";
    int start = header.indexOf("mrd=") + 4;
    int end = header.indexOf(';', start);

    StickyCookie.Claim claim = codec.read(header, start, end, GROUP_HASH, NOW, TTL);
    assertThat(claim.isValid()).isTrue();
    assertThat(claim.backendHash()).isEqualTo(StickyCookie.backendHash(GROUP, "b1"));
    assertThat(codec.read(new StringBuilder(header), start, end, GROUP_HASH, NOW, TTL).isValid()).isTrue();
    assertThat(codec.read(header, start, end + 1, GROUP_HASH, NOW, TTL).invalid())
        .as("the ';' after it").isEqualTo(StickyCookie.Invalid.MALFORMED);
    assertThat(codec.read(header, start - 1, end, GROUP_HASH, NOW, TTL).invalid())
        .as("the '=' before it").isEqualTo(StickyCookie.Invalid.MALFORMED);
  }

  @Test
  void aRefusalAfterAValidReadIsNotValidAndTheReverse() {
    String value = codec.issue(GROUP, "b1", "us-east", NOW);
    assertThat(codec.read(value, GROUP_HASH, NOW, TTL).isValid()).isTrue();
    assertThat(codec.read("!!!", GROUP_HASH, NOW, TTL).isValid()).isFalse();
    StickyCookie.Claim again = codec.read(value, GROUP_HASH, NOW, TTL);
    assertThat(again.isValid()).isTrue();
    assertThat(again.invalid()).isNull();
  }

  @Test
  void eachThreadReadsIntoItsOwnClaim() throws Exception {
    String mine = codec.issue(GROUP, "b1", "us-east", NOW);
    String theirs = codec.issue(GROUP, "b2", "eu-west", NOW);
    StickyCookie.Claim claim = codec.read(mine, GROUP_HASH, NOW, TTL);

    AtomicReference<StickyCookie.Claim> other = new AtomicReference<>();
    Thread thread = new Thread(() -> other.set(codec.read(theirs, GROUP_HASH, NOW, TTL)));
    thread.start();
    thread.join();

    assertThat(other.get()).isNotSameAs(claim);
    assertThat(other.get().backendHash()).isEqualTo(StickyCookie.backendHash(GROUP, "b2"));
    assertThat(claim.backendHash()).isEqualTo(StickyCookie.backendHash(GROUP, "b1"));
    assertThat(claim.regionHash()).isEqualTo(StickyCookie.regionHash("us-east"));
  }

  @Test
  void refusalReasonsHaveStableLabels() {
    assertThat(Stream.of(StickyCookie.Invalid.values()).map(StickyCookie.Invalid::label))
        .containsExactly("malformed", "unknown-key", "bad-signature", "other-group", "expired");
  }
}
