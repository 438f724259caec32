package dev.meridian.proxy.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a backends file ({@code backend-groups.NAME.backends-file}): JSON or HOCON holding
 * {@code backends = [ { address, id, region, zone, weight } ]}, the fields of a written backend.
 * Every problem is reported at once, each as {@code file: line: key: message}.
 */
public final class BackendFile {
  private static final List<String> ENTRY_KEYS = List.of("id", "address", "region", "zone", "weight");

  private BackendFile() {}

  /**
   * Reads and checks the file's backends; entries without a region take {@code defaultRegion}. An
   * empty list is allowed (the group then has none from this file).
   *
   * @throws InvalidConfigException naming the file, line and key of each problem
   */
  public static List<BackendSettings> load(Path file, String defaultRegion) throws InvalidConfigException {
    Problems problems = new Problems(file.toString());
    ConfigObject root;
    try {
      root = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).root();
    } catch (ConfigException.IO e) {
      problems.add(e, "cannot read " + file, "a readable JSON or HOCON file of backends");
      throw problems.toException();
    } catch (ConfigException e) {
      throw syntaxError(problems, e);
    }
    return backends(root, problems, defaultRegion);
  }

  /**
   * Checks the backends in bytes already read from the file (as {@link #load(Path, String)} does,
   * messages naming the file and line): a poller that compared those bytes with the last ones it saw
   * then reports on exactly them, not on what the file holds a moment later (half of a rewrite).
   */
  public static List<BackendSettings> load(Path file, byte[] bytes, String defaultRegion)
      throws InvalidConfigException {
    Problems problems = new Problems(file.toString());
    ConfigObject root;
    try {
      String name = file.getFileName() == null ? "" : file.getFileName().toString();
      ConfigParseOptions options = ConfigParseOptions.defaults().setOriginDescription(file.toString())
          .setSyntax(name.endsWith(".json") ? ConfigSyntax.JSON : ConfigSyntax.CONF);
      root = ConfigFactory.parseString(new String(bytes, StandardCharsets.UTF_8), options).root();
    } catch (ConfigException e) {
      throw syntaxError(problems, e);
    }
    return backends(root, problems, defaultRegion);
  }

  private static InvalidConfigException syntaxError(Problems problems, ConfigException e) {
    problems.add(e, "syntax error", "JSON or HOCON: { \"backends\": [ { \"address\": \"HOST:PORT\" } ] }");
    return problems.toException();
  }

  private static List<BackendSettings> backends(ConfigObject root, Problems problems, String defaultRegion)
      throws InvalidConfigException {
    List<BackendSettings> out = new ArrayList<>();
    for (String key : root.keySet()) {
      if (!key.equals("backends")) {
        problems.add(root.get(key).origin(), key, "unknown key (expected: backends)");
      }
    }
    ConfigValue value = root.get("backends");
    if (!(value instanceof ConfigList list)) {
      problems.add(value == null ? root.origin() : value.origin(), "backends", (value == null ? "missing"
          : "not a list") + " (expected: backends = [ { address = \"HOST:PORT\", region = ... } ])");
      throw problems.toException();
    }
    Map<String, String> ids = new HashMap<>();
    for (int i = 0; i < list.size(); i++) {
      String where = "backends[" + i + "]";
      if (!(list.get(i) instanceof ConfigObject entry)) {
        problems.add(list.get(i).origin(), where, "not an object (expected: { address = \"HOST:PORT\", ... })");
        continue;
      }
      for (String key : entry.keySet()) {
        if (!ENTRY_KEYS.contains(key)) {
          problems.add(entry.get(key).origin(), where + "." + key, "unknown key (expected: one of "
              + String.join(", ", ENTRY_KEYS) + ")");
        }
      }
      ObjectReader reader = new ObjectReader(entry, where, problems, ConfigFactory.empty());
      out.add(BackendEntries.written(reader, defaultRegion, ids));
    }
    problems.throwIfAny();
    return out;
  }
}
