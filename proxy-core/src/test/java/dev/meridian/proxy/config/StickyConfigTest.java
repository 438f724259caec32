package dev.meridian.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.meridian.balancer.StickyCookie;
import dev.meridian.proxy.routing.StickyPolicy;
import dev.meridian.proxy.routing.StickyPolicy.Mode;
import dev.meridian.proxy.routing.StickyPolicy.Secure;
import dev.meridian.proxy.sticky.StickyKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StickyConfigTest {
  private static final String STICKY_KEYS = "mode, cookie, ttl, secure, http-only, same-site, path, domain, "
      + "app-cookie, strict";
  private static final long NOW = 1_700_000_000L;
  private static final String GROUP = "app";

  @TempDir Path dir;

  // ---- routes[].sticky ----

  @Test
  void aFullStickyObjectParsesIntoItsPolicy() throws Exception {
    MeridianSettings s = SettingsLoader.parse(withRoutes("""
        { backend-group = app, sticky {
            mode = app-cookie
            cookie = srv_pin
            ttl = 30m
            secure = true
            http-only = false
            same-site = strict
            path = "/shop"
            domain = ".example.com"
            app-cookie = PHPSESSID
            strict = true
        } }
        """), "t.conf");

    assertThat(s.routes().get(0).sticky()).contains(new StickyPolicy(Mode.APP_COOKIE, "srv_pin",
        Duration.ofMinutes(30), Secure.ALWAYS, false, "Strict", "/shop", ".example.com", "PHPSESSID", true));
  }

  /**
   * A browser keeps one cookie per name and path: two groups' pins under the default name would
   * overwrite each other, so each group then gets its own; names set to clash are refused.
   */
  @Test
  void theStickyCookiesOfTwoGroupsNeverShareAName() throws Exception {
    String twoGroups = "meridian {\n"
        + "listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "backend-groups { shop { backends = [ { address = \"10.0.0.1:80\" } ] }\n"
        + "  account { backends = [ { address = \"10.0.0.2:80\" } ] } }\n"
        + "routes = [\n"
        + "{ path-prefix = /shop, backend-group = shop, sticky {} }\n"
        + "{ path-prefix = /cart, backend-group = shop, sticky {} }\n"
        + "{ path-prefix = /account, backend-group = account, sticky { COOKIE } }\n"
        + "]\n}\n";
    MeridianSettings s = SettingsLoader.parse(twoGroups.replace("sticky { COOKIE }", "sticky {}"), "t.conf");
    assertThat(s.routes()).extracting(r -> r.sticky().orElseThrow().cookie())
        .containsExactly("meridian_affinity_shop", "meridian_affinity_shop", "meridian_affinity_account");

    assertThat(SettingsLoader.parse(twoGroups.replace("sticky { COOKIE }", "sticky { cookie = acct }"), "t.conf")
        .routes()).extracting(r -> r.sticky().orElseThrow().cookie())
        .as("one group left on the default keeps it").containsExactly("meridian_affinity", "meridian_affinity", "acct");

    assertThat(problems(twoGroups.replace("sticky { COOKIE }", "sticky { cookie = meridian_affinity }")))
        .singleElement().asString().startsWith("t.conf: 8: meridian.routes[2].sticky.cookie: 'meridian_affinity'"
            + " (path /) is also the sticky cookie of group 'shop'");
    assertThat(SettingsLoader.parse(twoGroups.replace("sticky { COOKIE }",
        "sticky { cookie = meridian_affinity, path = /account }"), "t.conf").routes()).as("another path: no clash")
        .hasSize(3);
  }

  @Test
  void anEmptyStickyObjectTakesEveryDocumentedDefault() throws Exception {
    MeridianSettings s = SettingsLoader.parse(withRoutes("{ backend-group = app, sticky {} }"), "t.conf");

    assertThat(s.routes().get(0).sticky()).contains(new StickyPolicy(Mode.COOKIE, "meridian_affinity",
        Duration.ofHours(1), Secure.AUTO, true, "Lax", "/", "", "JSESSIONID", false));
  }

  @Test
  void aRouteWithoutStickyHasNoPolicy() throws Exception {
    MeridianSettings s = SettingsLoader.parse(withRoutes("{ backend-group = app }"), "t.conf");

    assertThat(s.routes().get(0).sticky()).isEmpty();
  }

  @Test
  void readsTheOtherSpellingsOfSecureAndSameSite() throws Exception {
    MeridianSettings s = SettingsLoader.parse(withRoutes("""
        { backend-group = app, sticky { secure = false, same-site = off } }
        { backend-group = app, sticky { secure = auto, same-site = LAX } }
        { backend-group = app, sticky { secure = true, same-site = none } }
        """), "t.conf");

    assertThat(s.routes()).extracting(r -> r.sticky().orElseThrow())
        .extracting(StickyPolicy::secure, StickyPolicy::sameSite)
        .containsExactly(
            tuple(Secure.NEVER, ""),
            tuple(Secure.AUTO, "Lax"),
            tuple(Secure.ALWAYS, "None"));
  }

  @Test
  void reportsEveryBadStickyValueAtOnceWithItsLineAndKey() {
    List<ConfigProblem> problems = problems(withRoutes("""
        { backend-group = app, sticky {
            mode = ip
            cookie = "bad name"
            ttl = 0s
            secure = maybe
            same-site = sometimes
            path = shop
            domain = "bad domain!"
            ttll = 5m
        } }
        { backend-group = app, sticky {
            ttl = -1s
            secure = false
            same-site = none
            path = "/a;b"
            app-cookie = "JSESSION ID"
        } }
        """));

    assertThat(problems).allSatisfy(p -> assertThat(p.file()).isEqualTo("t.conf"));
    assertThat(problems).extracting(p -> p.line() + " " + p.key() + " " + quoted(p.message()))
        .containsExactlyInAnyOrder(
            "6 meridian.routes[0].sticky.mode 'ip'",
            "7 meridian.routes[0].sticky.cookie 'bad name'",
            "8 meridian.routes[0].sticky.ttl \"0s\"",
            "9 meridian.routes[0].sticky.secure 'maybe'",
            "10 meridian.routes[0].sticky.same-site 'sometimes'",
            "11 meridian.routes[0].sticky.path 'shop'",
            "12 meridian.routes[0].sticky.domain 'bad domain!'",
            "13 meridian.routes[0].sticky.ttll ",
            "16 meridian.routes[1].sticky.ttl \"-1s\"",
            "18 meridian.routes[1].sticky.same-site ",
            "19 meridian.routes[1].sticky.path '/a;b'",
            "20 meridian.routes[1].sticky.app-cookie 'JSESSION ID'");
    assertThat(problems).filteredOn(p -> p.key().endsWith(".ttll")).singleElement()
        .hasToString("t.conf: 13: meridian.routes[0].sticky.ttll: unknown key (expected: one of "
            + STICKY_KEYS + ")");
    assertThat(problems).filteredOn(p -> p.key().equals("meridian.routes[0].sticky.mode")).singleElement()
        .hasToString("t.conf: 6: meridian.routes[0].sticky.mode: 'ip' (expected: cookie or app-cookie)");
    assertThat(problems).filteredOn(p -> p.key().equals("meridian.routes[1].sticky.same-site")).singleElement()
        .satisfies(p -> assertThat(p.message()).contains("none").contains("secure = true"));
  }

  @Test
  void everyStickyProblemSaysWhatIsExpected() {
    List<ConfigProblem> problems = problems(withRoutes("""
        { backend-group = app, sticky { mode = ip } }
        { backend-group = app, sticky { cookie = "bad name" } }
        { backend-group = app, sticky { ttl = 0s } }
        { backend-group = app, sticky { secure = maybe } }
        { backend-group = app, sticky { same-site = sometimes } }
        { backend-group = app, sticky { same-site = none, secure = false } }
        { backend-group = app, sticky { path = shop } }
        { backend-group = app, sticky { domain = "bad domain!" } }
        { backend-group = app, sticky { ttll = 5m } }
        """));

    assertThat(problems).hasSize(9);
    assertThat(problems).allSatisfy(p -> assertThat(p.message()).as(p.toString()).matches(".*\\(expected: .+\\)"));
  }

  @Test
  void sameSiteNoneIsRefusedWithAutomaticSecureToo() {
    assertThat(problems(withRoutes("{ backend-group = app, sticky { same-site = none } }")))
        .singleElement().satisfies(p -> {
          assertThat(p.line()).isEqualTo(5);
          assertThat(p.key()).isEqualTo("meridian.routes[0].sticky.same-site");
        });
  }

  @Test
  void cookiePrefixesBindTheirAttributes() throws Exception {
    assertThat(problems(withRoutes("{ backend-group = app, sticky { cookie = \"__Host-aff\", domain = \"example.com\" } }")))
        .extracting(p -> p.key()).containsExactlyInAnyOrder("meridian.routes[0].sticky.secure",
            "meridian.routes[0].sticky.cookie");
    assertThat(problems(withRoutes("{ backend-group = app, sticky { cookie = \"__Secure-aff\", secure = false } }")))
        .singleElement().satisfies(p -> assertThat(p.toString()).contains("needs secure = true"));
    assertThat(SettingsLoader.parse(withRoutes("{ backend-group = app, sticky { cookie = \"__Host-aff\", secure = true } }"),
        "t.conf").routes().get(0).sticky()).hasValueSatisfying(p -> assertThat(p.cookie()).isEqualTo("__Host-aff"));
  }

  @Test
  void aStickyValueThatIsNotAnObjectIsReported() {
    assertThat(problems(withRoutes("{ backend-group = app, sticky = yes }")))
        .singleElement().hasToString("t.conf: 5: meridian.routes[0].sticky: \"yes\" is a string "
            + "(expected: an object { ... })");
  }

  // ---- meridian.sticky ----

  @Test
  void withoutAKeysFileTheKeysAreLocalAndCheckedEveryFiveSeconds() throws Exception {
    MeridianSettings s = SettingsLoader.parse(withRoutes("{ backend-group = app }"), "t.conf");

    assertThat(s.sticky().keysFile()).isEmpty();
    assertThat(s.sticky().reloadInterval()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void aRelativeKeysFileResolvesAgainstTheConfigurationsDirectory() throws Exception {
    Files.createDirectories(dir.resolve("secrets"));
    Path keys = writeKeys("secrets/keys.json", key("k2", secret(2)), key("k1", secret(1)));
    Path conf = write("meridian.conf", withSticky("sticky { keys-file = \"secrets/keys.json\", reload-interval = 2s }"));

    MeridianSettings s = SettingsLoader.load(conf);

    assertThat(s.sticky().keysFile()).contains(keys);
    assertThat(s.sticky().reloadInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(StickyKeyFile.load(s.sticky().keysFile().orElseThrow()))
        .extracting(StickyCookie.Key::id).containsExactly("k2", "k1");
  }

  @Test
  void anAbsoluteKeysFileIsTakenAsItIs() throws Exception {
    Path keys = writeKeys("keys.json", key("k1", secret(1)));
    Files.createDirectories(dir.resolve("etc"));
    Path conf = write("etc/meridian.conf", withSticky("sticky.keys-file = \"" + keys + "\""));

    assertThat(SettingsLoader.load(conf).sticky().keysFile()).contains(keys);
  }

  @Test
  void aMissingKeysFileIsReportedOnItsKey() throws IOException {
    Path conf = write("meridian.conf", withSticky("sticky.keys-file = \"nope.json\""));

    assertThatThrownBy(() -> SettingsLoader.load(conf))
        .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).singleElement()
            .satisfies(p -> {
              assertThat(p.file()).isEqualTo(conf.toString());
              assertThat(p.line()).isEqualTo(2);
              assertThat(p.key()).isEqualTo("meridian.sticky.keys-file");
              assertThat(p.message()).contains(dir.resolve("nope.json").toString()).contains("(expected: ");
            }));
  }

  @Test
  void theConfigurationCheckReportsAProblemInsideTheKeysFile() throws IOException {
    Path keys = write("keys.json", """
        [
          { "id": "k1", "secret": "%s" },
          { "id": "k1", "secret": "%s" }
        ]
        """.formatted(secret(1), secret(2)));
    Path conf = write("meridian.conf", withSticky("sticky.keys-file = keys.json"));

    assertThatThrownBy(() -> SettingsLoader.load(conf))
        .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).singleElement()
            .satisfies(p -> {
              assertThat(p.file()).isEqualTo(keys.toString());
              assertThat(p.line()).isEqualTo(3);
              assertThat(p.toString()).startsWith(keys + ": 3: [1].id: 'k1' appears twice");
            }));
  }

  /** A key whose id and secret are both wrong is reported for both at once, not one per fix. */
  @Test
  void aKeyWithABadIdAndAShortSecretIsReportedForBoth() throws IOException {
    Path keys = write("keys.json", """
        [
          { "id": "k 2", "secret": "c2hvcnQ=" }
        ]
        """);
    assertThatThrownBy(() -> StickyKeyFile.load(keys))
        .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems())
            .extracting(ConfigProblem::toString)
            .containsExactly(keys + ": 2: [0].id: key id: 'k 2' (expected: 1-16 characters of A-Z a-z 0-9 . _ -)",
                keys + ": 2: [0].secret: 5 bytes (expected: at least 16, 32 recommended: openssl rand -base64 32)"));
  }

  @Test
  void anUnknownKeyUnderStickyIsReported() {
    assertThat(problems(withSticky("sticky.keysfile = keys.json")))
        .extracting(ConfigProblem::toString)
        .containsExactly("t.conf: 2: meridian.sticky.keysfile: unknown key (expected: one of keys-file, reload-interval)");
  }

  @Test
  void aKeysFileThatIsADirectoryIsReported() throws IOException {
    Path keys = Files.createDirectories(dir.resolve("keys.d"));
    Path conf = write("meridian.conf", withSticky("sticky.keys-file = keys.d"));

    assertThatThrownBy(() -> SettingsLoader.load(conf))
        .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).singleElement()
            .satisfies(p -> assertThat(p.toString()).contains(keys.toString()).contains("(expected: ")));
  }

  // ---- the keys file ----

  @Test
  void readsKeysInFileOrderWithBase64AndBase64UrlSecrets() throws Exception {
    byte[] standard = repeated(0xfb, 32); // base64 "+/v7+/v7...": needs the standard alphabet
    byte[] url = repeated(0xff, 32); // base64url "_____...": needs the URL alphabet
    byte[] sixteen = repeated(0x3e, 16);
    Path keys = write("keys.json", """
        [
          { "id": "k-2024.b", "secret": "%s" },
          { "secret": "%s", "id": "K_2023" },
          { "id": "short", "secret": " %s " }
        ]
        """.formatted(Base64.getEncoder().encodeToString(standard),
        Base64.getUrlEncoder().withoutPadding().encodeToString(url), Base64.getEncoder().encodeToString(sixteen)));

    List<StickyCookie.Key> loaded = StickyKeyFile.load(keys);

    assertThat(loaded).extracting(StickyCookie.Key::id).containsExactly("k-2024.b", "K_2023", "short");
    assertThat(loaded.get(0).secret()).containsExactly(standard);
    assertThat(loaded.get(1).secret()).containsExactly(url);
    assertThat(loaded.get(2).secret()).containsExactly(sixteen);
  }

  @Test
  void aMissingKeysFileNamesTheFile() {
    Path keys = dir.resolve("absent.json");

    assertThat(keyProblems(keys)).singleElement().asString()
        .startsWith(keys + ": cannot read " + keys).contains("(expected: ");
  }

  @Test
  void badJsonIsASyntaxErrorWithItsLine() throws IOException {
    Path keys = write("keys.json", """
        [
          { "id": "k1", "secret": "%s" },
          { "id": "k2", "secret": "%s" ]
        """.formatted(secret(1), secret(2)));

    assertThat(keyProblems(keys)).singleElement().satisfies(p -> {
      assertThat(p.file()).isEqualTo(keys.toString());
      assertThat(p.line()).isEqualTo(3);
      assertThat(p.toString()).startsWith(keys + ": 3: syntax error").contains("(expected: ");
    });
  }

  @Test
  void anEmptyArrayIsRefused() throws IOException {
    Path keys = write("keys.json", "[ ]\n");

    assertThat(keyProblems(keys)).singleElement().asString()
        .startsWith(keys + ": 1: keys: not a non-empty array").contains("(expected: ");
  }

  @Test
  void aKeyWithoutIdOrSecretIsRefused() throws IOException {
    Path keys = write("keys.json", """
        [
          { "secret": "%s" },
          { "id": "k2" },
          { "id": "k3", "secret": 42 }
        ]
        """.formatted(secret(1)));

    assertThat(keyProblems(keys)).extracting(ConfigProblem::toString).containsExactlyInAnyOrder(
        keys + ": 2: [0].id: missing (expected: a string)",
        keys + ": 3: [1].secret: missing (expected: a string)",
        keys + ": 4: [2].secret: not a string (expected: a string)");
  }

  @Test
  void duplicateIdsAreRefusedAtTheSecondOne() throws IOException {
    Path keys = write("keys.json", """
        [
          { "id": "k1", "secret": "%s" },
          { "id": "k2", "secret": "%s" },
          { "id": "k1", "secret": "%s" }
        ]
        """.formatted(secret(1), secret(2), secret(3)));

    assertThat(keyProblems(keys)).extracting(ConfigProblem::toString).containsExactly(
        keys + ": 4: [2].id: 'k1' appears twice (expected: distinct ids)");
  }

  @Test
  void aSecretShorterThanSixteenBytesIsRefusedOnItsLine() throws IOException {
    Path keys = write("keys.json", """
        [
          {
            "id": "k1",
            "secret": "%s"
          }
        ]
        """.formatted(Base64.getEncoder().encodeToString(new byte[15])));

    assertThat(keyProblems(keys)).singleElement().satisfies(p -> {
      assertThat(p.line()).isEqualTo(4);
      assertThat(p.toString()).startsWith(keys + ": 4: [0]").contains("15 bytes").contains("(expected: at least 16");
    });
  }

  @Test
  void aBadKeyIdIsRefusedOnItsLine() throws IOException {
    Path keys = write("keys.json", """
        [
          {
            "id": "seventeen-chars-x",
            "secret": "%s"
          },
          {
            "id": "k 1",
            "secret": "%s"
          },
          {
            "id": "",
            "secret": "%s"
          }
        ]
        """.formatted(secret(1), secret(2), secret(3)));

    List<ConfigProblem> problems = keyProblems(keys);

    assertThat(problems).extracting(ConfigProblem::key).satisfiesExactly(
        k -> assertThat(k).startsWith("[0]"), k -> assertThat(k).startsWith("[1]"), k -> assertThat(k).startsWith("[2]"));
    assertThat(problems).allSatisfy(p -> assertThat(p.toString())
        .startsWith(keys + ": ").contains("key id: '").contains("(expected: 1-16 characters of A-Z a-z 0-9 . _ -)"));
    assertThat(problems).extracting(ConfigProblem::line).as("each bad id reported on the line of the id")
        .containsExactly(3, 7, 11);
  }

  @Test
  void aSecretThatIsNotBase64IsRefused() throws IOException {
    Path keys = write("keys.json", """
        [
          { "id": "k1", "secret": "not base64!" }
        ]
        """);

    assertThat(keyProblems(keys)).singleElement().asString()
        .startsWith(keys + ": 2: [0].secret: not base64").contains("(expected: ");
  }

  @Test
  void anUnknownFieldInAKeyIsRefused() throws IOException {
    Path keys = write("keys.json", """
        [
          { "id": "k1", "secret": "%s",
            "created": "2024-01-01" }
        ]
        """.formatted(secret(1)));

    assertThat(keyProblems(keys)).extracting(ConfigProblem::toString).containsExactly(
        keys + ": 3: [0].created: unknown key (expected: id, secret)");
  }

  @Test
  void reportsEveryProblemOfTheKeysFileAtOnce() throws IOException {
    Path keys = write("keys.json", """
        [
          { "id": "k1", "secret": "%s" },
          { "id": "k1", "secret": "%s" },
          { "id": "k3", "secret": "%s" },
          { "id": "k4", "secret": "??", "note": "x" },
          "k5"
        ]
        """.formatted(secret(1), secret(2), Base64.getEncoder().encodeToString(new byte[8])));

    assertThat(keyProblems(keys)).extracting(p -> p.line() + " " + p.key()).containsExactlyInAnyOrder(
        "3 [1].id", "4 [2].secret", "5 [3].note", "5 [3].secret", "6 [4]");
  }

  // ---- StickyKeys ----

  @Test
  void withoutAFileTheKeysAreOneLocalRandomKey() throws Exception {
    StickyKeys keys = StickyKeys.load(Optional.empty());

    assertThat(keys.isShared()).isFalse();
    assertThat(keys.check()).isFalse();
    assertThat(keys.codec().keyIds()).hasSize(1);
    String cookie = keys.codec().issue(GROUP, "b1", "eu", NOW);
    assertThat(keys.codec().read(cookie, StickyCookie.groupHash(GROUP), NOW, 3600).isValid()).isTrue();
    assertThat(StickyKeys.load(Optional.empty()).codec().read(cookie, StickyCookie.groupHash(GROUP), NOW, 3600)
        .isValid()).as("another process's random key").isFalse();
  }

  @Test
  void aKeysFileIsSharedAndNotReloadedWhileUnchanged() throws Exception {
    Path file = writeKeys("keys.json", key("k1", secret(1)));

    StickyKeys keys = StickyKeys.load(Optional.of(file));
    StickyCookie before = keys.codec();

    assertThat(keys.isShared()).isTrue();
    assertThat(keys.codec().keyIds()).containsExactly("k1");
    assertThat(keys.check()).isFalse();
    assertThat(keys.check()).isFalse();
    assertThat(keys.codec()).isSameAs(before);
    assertThat(keys.reloads()).isZero();
    assertThat(keys.refused()).isZero();
  }

  @Test
  void aRewrittenFileWithANewFirstKeyIsPutInForce() throws Exception {
    Path file = writeKeys("keys.json", key("k1", secret(1)));
    StickyKeys keys = StickyKeys.load(Optional.of(file));
    String oldCookie = keys.codec().issue(GROUP, "b1", "eu", NOW);

    writeKeys("keys.json", key("k2", secret(2)), key("k1", secret(1)));

    assertThat(keys.check()).isTrue();
    assertThat(keys.codec().keyIds()).containsExactly("k2", "k1");
    assertThat(keys.reloads()).isEqualTo(1);
    assertThat(keys.check()).as("unchanged since the reload").isFalse();
    assertThat(read(keys, oldCookie).isValid()).as("the old key still verifies").isTrue();
    String newCookie = keys.codec().issue(GROUP, "b1", "eu", NOW);
    assertThat(new StickyCookie(StickyKeyFile.load(file)).read(newCookie, StickyCookie.groupHash(GROUP), NOW, 3600)
        .isValid()).as("another instance reading the same file").isTrue();
    assertThat(new StickyCookie(List.of(new StickyCookie.Key("k1", Base64.getDecoder().decode(secret(1)))))
        .read(newCookie, StickyCookie.groupHash(GROUP), NOW, 3600).invalid())
        .as("signed with the new key").isEqualTo(StickyCookie.Invalid.UNKNOWN_KEY);
  }

  @Test
  void aBrokenFileIsRefusedAndTheKeysInForceStay() throws Exception {
    Path file = writeKeys("keys.json", key("k1", secret(1)));
    StickyKeys keys = StickyKeys.load(Optional.of(file));
    StickyCookie before = keys.codec();
    String oldCookie = before.issue(GROUP, "b1", "eu", NOW);

    write("keys.json", "[ { \"id\": \"k2\", \"secret\": ");

    assertThat(keys.check()).isFalse();
    assertThat(keys.refused()).isEqualTo(1);
    assertThat(keys.reloads()).isZero();
    assertThat(keys.codec()).isSameAs(before);
    assertThat(keys.codec().keyIds()).containsExactly("k1");
    assertThat(read(keys, oldCookie).isValid()).isTrue();

    assertThat(keys.check()).as("the same broken file is not refused twice").isFalse();
    assertThat(keys.refused()).isEqualTo(1);

    writeKeys("keys.json", key("k2", secret(2)), key("k1", secret(1)));

    assertThat(keys.check()).as("a repaired file").isTrue();
    assertThat(keys.codec().keyIds()).containsExactly("k2", "k1");
    assertThat(read(keys, oldCookie).isValid()).isTrue();
  }

  @Test
  void aFileWithABadKeyIsRefusedToo() throws Exception {
    Path file = writeKeys("keys.json", key("k1", secret(1)));
    StickyKeys keys = StickyKeys.load(Optional.of(file));

    writeKeys("keys.json", key("k2", Base64.getEncoder().encodeToString(new byte[8])), key("k1", secret(1)));

    assertThat(keys.check()).isFalse();
    assertThat(keys.refused()).isEqualTo(1);
    assertThat(keys.codec().keyIds()).containsExactly("k1");
  }

  @Test
  void aDeletedFileLeavesTheKeysInForce() throws Exception {
    Path file = writeKeys("keys.json", key("k1", secret(1)));
    StickyKeys keys = StickyKeys.load(Optional.of(file));
    String oldCookie = keys.codec().issue(GROUP, "b1", "eu", NOW);

    Files.delete(file);

    assertThat(keys.check()).isFalse();
    assertThat(keys.codec().keyIds()).containsExactly("k1");
    assertThat(read(keys, oldCookie).isValid()).isTrue();
  }

  @Test
  void loadingABrokenFileThrowsWithItsProblems() throws IOException {
    Path file = write("keys.json", "[]");

    assertThatThrownBy(() -> StickyKeys.load(Optional.of(file)))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageStartingWith(file + ": 1: keys: not a non-empty array");
  }

  // ---- helpers ----

  private static StickyCookie.Claim read(StickyKeys keys, String cookie) {
    return keys.codec().read(cookie, StickyCookie.groupHash(GROUP), NOW, 3600);
  }

  /** A configuration whose routes (line 5 onwards) are the given text. */
  private static String withRoutes(String routes) {
    return "meridian {\n"
        + "listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "backend-groups { app { backends = [ { address = \"10.0.0.1:80\" } ] } }\n"
        + "routes = [\n"
        + routes
        + "]\n"
        + "}\n";
  }

  /** A configuration with one sticky route whose line 2 is the given text. */
  private static String withSticky(String line2) {
    return "meridian {\n"
        + line2 + "\n"
        + "listeners = [ { address = \"127.0.0.1:0\" } ]\n"
        + "backend-groups { app { backends = [ { address = \"10.0.0.1:80\" } ] } }\n"
        + "routes = [ { backend-group = app, sticky {} } ]\n"
        + "}\n";
  }

  private static List<ConfigProblem> problems(String text) {
    try {
      SettingsLoader.parse(text, "t.conf");
    } catch (InvalidConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected problems in:\n" + text);
  }

  private static List<ConfigProblem> keyProblems(Path file) {
    try {
      StickyKeyFile.load(file);
    } catch (InvalidConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected problems in " + file);
  }

  /** The first single-quoted or double-quoted part of a message, with its quotes; "" when none. */
  private static String quoted(String message) {
    for (int i = 0; i < message.length(); i++) {
      char c = message.charAt(i);
      if (c == '\'' || c == '"') {
        int end = message.indexOf(c, i + 1);
        return end < 0 ? "" : message.substring(i, end + 1);
      }
      if (c == '(') {
        return "";
      }
    }
    return "";
  }

  /** Base64 of 32 bytes derived from the seed. */
  private static String secret(int seed) {
    return Base64.getEncoder().encodeToString(filled(seed));
  }

  private static byte[] repeated(int value, int length) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return bytes;
  }

  private static byte[] filled(int value) {
    byte[] bytes = new byte[32];
    Arrays.fill(bytes, (byte) value);
    bytes[0] = (byte) (value * 31 + 7);
    return bytes;
  }

  private static String key(String id, String secret) {
    return "{ \"id\": \"" + id + "\", \"secret\": \"" + secret + "\" }";
  }

  private Path writeKeys(String name, String... keys) throws IOException {
    return write(name, "[\n  " + String.join(",\n  ", keys) + "\n]\n");
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }
}
