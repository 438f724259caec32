package dev.meridian.proxy.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.meridian.balancer.StickyCookie;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the sticky-session keys file ({@code meridian.sticky.keys-file}): a JSON array of
 * {@code { "id": "k2", "secret": "base64..." }}, the signing key first. Every problem is reported at
 * once, each as {@code file: line: key: message}.
 */
public final class StickyKeyFile {
  private StickyKeyFile() {}

  /**
   * Reads and checks the keys.
   *
   * @throws InvalidConfigException naming the file, line and key of each problem
   */
  public static List<StickyCookie.Key> load(Path file) throws InvalidConfigException {
    Problems problems = new Problems(file.toString());
    List<StickyCookie.Key> keys = read(file, problems);
    problems.throwIfAny();
    return keys;
  }

  private static List<StickyCookie.Key> read(Path file, Problems problems) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      problems.add((com.typesafe.config.ConfigOrigin) null, "", "cannot read " + file + ": " + e.getMessage()
          + " (expected: a readable JSON file of keys)");
      return List.of();
    }
    ConfigValue root;
    try {
      // JSON has no root array in Typesafe Config: the array becomes the value of one key, on line 1.
      root = ConfigFactory.parseString("keys : " + text, ConfigParseOptions.defaults()
          .setSyntax(ConfigSyntax.CONF).setOriginDescription(file.toString())).root().get("keys");
    } catch (ConfigException e) {
      problems.add(e, "syntax error", "a JSON array of { \"id\": ..., \"secret\": ... } objects");
      return List.of();
    }
    if (!(root instanceof ConfigList list) || list.isEmpty()) {
      problems.add(root == null ? null : root.origin(), "keys",
          "not a non-empty array (expected: [ { \"id\": \"k1\", \"secret\": \"base64...\" } ])");
      return List.of();
    }
    List<StickyCookie.Key> keys = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String where = "[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject o)) {
        problems.add(list.get(i).origin(), where, "not an object (expected: { \"id\": ..., \"secret\": ... })");
        continue;
      }
      for (String k : o.keySet()) {
        if (!k.equals("id") && !k.equals("secret")) {
          problems.add(o.get(k).origin(), where + "." + k, "unknown key (expected: id, secret)");
        }
      }
      String id = string(o, "id", where, problems);
      String secret = string(o, "secret", where, problems);
      if (id == null || secret == null) {
        continue;
      }
      // The id and the secret are checked apart, so that a file with both wrong says both at once.
      boolean usable = true;
      if (!StickyCookie.Key.isValidId(id)) {
        problems.add(o.get("id").origin(), where + ".id", "key id: '" + id + "' (expected: 1-" + StickyCookie.MAX_KEY_ID
            + " characters of A-Z a-z 0-9 . _ -)");
        usable = false;
      } else if (!ids.add(id)) {
        problems.add(o.get("id").origin(), where + ".id", "'" + id + "' appears twice (expected: distinct ids)");
        usable = false;
      }
      byte[] bytes = decode(secret.trim());
      if (bytes == null) {
        problems.add(o.get("secret").origin(), where + ".secret",
            "not base64 (expected: base64 or base64url of random bytes, e.g. openssl rand -base64 32)");
        continue;
      }
      if (bytes.length < StickyCookie.MIN_SECRET) {
        problems.add(o.get("secret").origin(), where + ".secret", bytes.length + " bytes (expected: at least "
            + StickyCookie.MIN_SECRET + ", 32 recommended: openssl rand -base64 32)");
        continue;
      }
      if (!usable) {
        continue;
      }
      try {
        keys.add(new StickyCookie.Key(id, bytes));
      } catch (IllegalArgumentException e) {
        problems.add(o.get("id").origin(), where + ".id", e.getMessage());
      }
    }
    return keys;
  }

  private static String string(ConfigObject o, String key, String where, Problems problems) {
    ConfigValue v = o.get(key);
    if (v == null || v.valueType() != ConfigValueType.STRING) {
      problems.add(v == null ? o.origin() : v.origin(), where + "." + key,
          (v == null ? "missing" : "not a string") + " (expected: a string)");
      return null;
    }
    return (String) v.unwrapped();
  }

  private static byte[] decode(String text) {
    try {
      return text.indexOf('-') >= 0 || text.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(text) : Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
