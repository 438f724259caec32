package dev.meridian.proxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a configuration as HOCON for people to read, with every value whose key names a secret,
 * password or token (such as {@code cookie-secret}) replaced by {@code <redacted>}. File paths are
 * kept: a path says where a secret is, not what it is.
 */
final class RedactedConfig {
  static final String REDACTED = "<redacted>";

  private RedactedConfig() {}

  /** The configuration as written, without comments or origins, secrets redacted. */
  static String render(Config config) {
    return render(config.root());
  }

  /**
   * The keys of the configuration as written, each with the value it resolved to (a substitution such
   * as {@code ${?ADMIN_ADDRESS}} shows its value), without comments or origins, secrets redacted.
   */
  static String render(Config written, Config resolved) {
    return render(resolvedAsWritten(written.root(), resolved.root()));
  }

  private static ConfigObject resolvedAsWritten(ConfigObject written, ConfigObject resolved) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String key : written.keySet()) {
      ConfigValue value = resolved.get(key);
      if (value == null) {
        continue; // an optional substitution that resolved to nothing
      }
      out.put(key, written.get(key) instanceof ConfigObject w && value instanceof ConfigObject r
          ? resolvedAsWritten(w, r) : value);
    }
    return ConfigValueFactory.fromMap(out);
  }

  private static String render(ConfigObject root) {
    ConfigValue redacted = redact(root, null);
    return redacted.render(ConfigRenderOptions.defaults().setOriginComments(false).setComments(false)
        .setJson(false).setFormatted(true));
  }

  private static ConfigValue redact(ConfigValue value, String key) {
    if (value.valueType() == ConfigValueType.OBJECT) {
      Map<String, Object> out = new LinkedHashMap<>();
      ((ConfigObject) value).forEach((k, v) -> out.put(k, redact(v, k)));
      return ConfigValueFactory.fromMap(out);
    }
    if (value.valueType() == ConfigValueType.LIST) {
      List<Object> out = new ArrayList<>();
      for (ConfigValue element : (ConfigList) value) {
        out.add(redact(element, key));
      }
      return ConfigValueFactory.fromIterable(out);
    }
    if (key != null && isSecret(key) && value.valueType() != ConfigValueType.NULL) {
      return ConfigValueFactory.fromAnyRef(REDACTED);
    }
    return value;
  }

  private static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return !k.endsWith("-file") && (k.contains("secret") || k.contains("password") || k.contains("token"));
  }
}
