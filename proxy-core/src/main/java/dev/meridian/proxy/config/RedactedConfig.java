package dev.meridian.proxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders a configuration as HOCON for people to read, secrets redacted: every value whose key names a
 * secret, password, token or credential (such as {@code cookie-secret}) is replaced by
 * {@code <redacted>}, and so is that text (of 8 characters or more) wherever else it appears, alone or
 * within another value (a value both a secret and something else refer to); the
 * user and password of a URL ({@code https://user:pass@host}) and the values of query parameters
 * named like a key, token, secret, password or signature ({@code /healthz?apikey=...}) are redacted
 * too. Of the written keys, only {@code meridian} (what Meridian reads) is shown when it is there:
 * other top-level keys hold values for substitutions. File paths are kept: a path says where a secret
 * is, not what it is.
 */
final class RedactedConfig {
  static final String REDACTED = "<redacted>";
  /**
   * {@code scheme://user:password@} (or {@code user@}) at the start of a URL, up to the authority's
   * last {@code @} (a password may hold one).
   */
  private static final Pattern URL_USER = Pattern.compile("^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\\s]*@");
  /**
   * Query parameter names that hold credentials, as a whole word of the name: key, api_key, apikey,
   * access_token, client_secret, password, pwd, auth, sig, X-Amz-Signature, jwt, session, code...
   * (not monkey, author or design).
   */
  private static final Pattern SECRET_PARAMETER = Pattern.compile(
      "(?i)(^|[_.-])(api_?key|key|token|secret|password|passwd|pwd|pass|auth|authorization|sig|signature"
          + "|credentials?|jwt|session(_?id)?|code)$");

  private RedactedConfig() {}

  /** The configuration as written, without comments or origins, secrets redacted. */
  static String render(Config config) {
    return render(config.root(), secretsOf(config.root(), null, new HashSet<>()));
  }

  /**
   * The keys the user wrote, with the values they resolved to in {@code resolved} (substitutions such
   * as {@code ${?ENV_VAR}} filled in; a key whose optional substitution found nothing left out),
   * without comments or origins, secrets redacted.
   */
  static String render(Config written, Config resolved) {
    ConfigObject picked = pick(written.root(), resolved.root());
    if (picked.get("meridian") != null) {
      picked = ConfigValueFactory.fromMap(Map.of("meridian", picked.get("meridian").unwrapped()));
    }
    return render(picked, secretsOf(resolved.root(), null, new HashSet<>()));
  }

  private static ConfigObject pick(ConfigObject written, ConfigObject resolved) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String key : written.keySet()) {
      ConfigValue value = resolved.get(key);
      if (value == null) {
        continue;
      }
      if (written.get(key) instanceof ConfigObject w && value instanceof ConfigObject r) {
        try {
          value = pick(w, r);
        } catch (ConfigException.NotResolved e) {
          // An object merged from substitutions: shown whole, as resolved.
        }
      }
      out.put(key, value);
    }
    return ConfigValueFactory.fromMap(out);
  }

  private static String render(ConfigValue root, Set<String> secrets) {
    ConfigValue redacted = redact(root, null, secrets);
    return redacted.render(ConfigRenderOptions.defaults().setOriginComments(false).setComments(false)
        .setJson(false).setFormatted(true));
  }

  /** The text of every value whose key names a secret (at least 8 characters: shorter ones would match by chance). */
  private static Set<String> secretsOf(ConfigValue value, String key, Set<String> found) {
    if (value.valueType() == ConfigValueType.OBJECT) {
      ((ConfigObject) value).forEach((k, v) -> secretsOf(v, k, found));
    } else if (value.valueType() == ConfigValueType.LIST) {
      for (ConfigValue element : (ConfigList) value) {
        secretsOf(element, key, found);
      }
    } else if (key != null && isSecret(key) && value.valueType() == ConfigValueType.STRING) {
      String text = (String) value.unwrapped();
      if (text.length() >= 8) {
        found.add(text);
      }
    }
    return found;
  }

  private static ConfigValue redact(ConfigValue value, String key, Set<String> secrets) {
    if (value.valueType() == ConfigValueType.OBJECT) {
      Map<String, Object> out = new LinkedHashMap<>();
      ((ConfigObject) value).forEach((k, v) -> out.put(k, redact(v, k, secrets)));
      return ConfigValueFactory.fromMap(out);
    }
    if (value.valueType() == ConfigValueType.LIST) {
      List<Object> out = new ArrayList<>();
      for (ConfigValue element : (ConfigList) value) {
        out.add(redact(element, key, secrets));
      }
      return ConfigValueFactory.fromIterable(out);
    }
    if (key != null && isSecret(key) && value.valueType() != ConfigValueType.NULL) {
      return ConfigValueFactory.fromAnyRef(REDACTED);
    }
    if (value.valueType() == ConfigValueType.STRING) {
      String text = (String) value.unwrapped();
      String scrubbed = scrub(text);
      for (String secret : secrets) {
        if (scrubbed.contains(secret)) {
          scrubbed = scrubbed.replace(secret, REDACTED);
        }
      }
      return scrubbed.equals(text) ? value : ConfigValueFactory.fromAnyRef(scrubbed);
    }
    return value;
  }

  /**
   * A URL's user information and the values of secret-looking query parameters (pairs split at
   * {@code &} or {@code ;}), redacted; only in a URL or a path (text with {@code ://} or starting with
   * {@code /}), so a pattern such as {@code ^/old/(.*)?key=} is left as written.
   */
  static String scrub(String text) {
    Matcher user = URL_USER.matcher(text);
    String out = user.find() ? user.replaceFirst("$1" + REDACTED + "@") : text;
    int query = out.indexOf('?');
    if (query < 0 || !(out.startsWith("/") || out.contains("://"))) {
      return out;
    }
    StringBuilder scrubbed = new StringBuilder(out.length()).append(out, 0, query + 1);
    int start = query + 1;
    while (start <= out.length()) {
      int end = start;
      while (end < out.length() && out.charAt(end) != '&' && out.charAt(end) != ';' && out.charAt(end) != '#') {
        end++;
      }
      String pair = out.substring(start, end);
      int eq = pair.indexOf('=');
      scrubbed.append(eq >= 0 && SECRET_PARAMETER.matcher(decoded(pair.substring(0, eq))).find()
          ? pair.substring(0, eq + 1) + REDACTED : pair);
      if (end < out.length()) {
        scrubbed.append(out.charAt(end));
      }
      start = end + 1;
    }
    return scrubbed.toString();
  }

  /** A query parameter's name with its percent-escapes decoded ({@code access%5Ftoken}); as written if they are broken. */
  private static String decoded(String name) {
    try {
      return java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IllegalArgumentException broken) {
      return name;
    }
  }

  private static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return !k.endsWith("-file") && (k.contains("secret") || k.contains("password") || k.contains("token")
        || k.contains("credential") || k.contains("api-key") || k.contains("apikey")
        || k.equals("authorization") || k.equals("proxy-authorization") || k.equals("cookie"));
  }
}
