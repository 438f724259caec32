package dev.meridian.proxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import dev.meridian.proxy.config.MeridianSettings.AdminSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendGroupSettings;
import dev.meridian.proxy.config.MeridianSettings.ListenerSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads a HOCON file into {@link MeridianSettings}, reporting every problem at once.
 *
 * <p>The user's file is laid over {@code reference.conf} (which holds every default) and resolved.
 * Then every key under {@code meridian} is checked: unknown keys, types, ranges, formats and
 * references between sections (a route's backend group must exist). Keys outside {@code meridian}
 * are left alone, as they may belong to other libraries. This is what {@code meridian check},
 * {@code meridian run} and a reload all call.
 */
public final class SettingsLoader {
  private static final ConfigParseOptions STRICT = ConfigParseOptions.defaults().setAllowMissing(false);

  private SettingsLoader() {}

  /**
   * Loads and validates a configuration file.
   *
   * @throws InvalidConfigException listing every problem, each as {@code file: line: key: message}
   */
  public static MeridianSettings load(Path file) throws InvalidConfigException {
    Path directory = file.toAbsolutePath().getParent();
    Problems problems = new Problems(file.toString(), directory == null ? Path.of("") : directory);
    try {
      return read(ConfigFactory.parseFile(file.toFile(), STRICT), problems);
    } catch (ConfigException.IO e) {
      ConfigProblem include = MissingInclude.locate(file, e);
      if (include != null) {
        problems.add(include);
      } else {
        problems.add(e, "cannot read", "a readable HOCON file");
      }
    } catch (ConfigException e) {
      problems.add(e, "syntax error", "valid HOCON");
    }
    throw problems.toException();
  }

  /**
   * Validates configuration text, naming it {@code originName} in problems (for tests and the demo).
   *
   * @throws InvalidConfigException listing every problem, each as {@code originName: line: key: message}
   */
  public static MeridianSettings parse(String hocon, String originName) throws InvalidConfigException {
    Problems problems = new Problems(originName);
    try {
      return read(ConfigFactory.parseString(hocon, STRICT.setOriginDescription(originName)), problems);
    } catch (ConfigException e) {
      problems.add(e, "syntax error", "valid HOCON");
    }
    throw problems.toException();
  }

  /** Merges the parsed file with the defaults, resolves substitutions and reads everything. */
  private static MeridianSettings read(Config user, Problems problems) throws InvalidConfigException {
    Config reference = ConfigFactory.defaultReference();
    Config merged;
    try {
      merged = user.withFallback(reference).resolve();
    } catch (ConfigException e) {
      problems.add(e, "cannot resolve", "substitutions ${...} that name existing keys");
      throw problems.toException();
    }
    checkRootKeys(user, reference, problems);
    ConfigValue root = merged.root().get("meridian");
    if (!(root instanceof ConfigObject meridianObject)) {
      problems.add(root.origin(), "meridian", "not an object (expected: meridian { ... })");
      throw problems.toException();
    }
    KnownKeys.check(meridianObject, reference.getObject("meridian"), problems);
    // The file as written, its substitutions (${?ENV_VAR}, references to other keys) filled in from
    // the resolved config: an unresolved one cannot be rendered.
    MeridianSettings settings = readSections(new ObjectReader(meridianObject, "meridian", problems, reference),
        RedactedConfig.render(user, merged));
    problems.throwIfAny();
    return settings;
  }

  /**
   * Names a key at the file's top that is not {@code meridian} when the file has no {@code meridian}
   * (everything else it says would be ignored, and the problem would only read "no listeners"), when
   * it looks like a misspelling of it, or when it is one of {@code meridian}'s own settings that the
   * file neither sets inside {@code meridian} nor refers to ({@code timeouts.connect = 100ms} written
   * after the closing brace, which would be ignored). Other top-level keys, and values kept at the top
   * for substitutions ({@code region = eu-west} read as {@code ${region}}), pass.
   */
  private static void checkRootKeys(Config user, Config reference, Problems problems) {
    java.util.Set<String> settings = reference.getObject("meridian").keySet();
    boolean hasMeridian = user.root().containsKey("meridian");
    ConfigValue written = user.root().get("meridian");
    java.util.Set<String> setInside = written instanceof ConfigObject inside ? inside.keySet() : java.util.Set.of();
    user.root().forEach((key, value) -> {
      if (key.equals("meridian")) {
        return;
      }
      if (!hasMeridian || isNear(key.toLowerCase(java.util.Locale.ROOT), "meridian")) {
        problems.add(value.origin(), key, "unknown key at the top of the file (expected: meridian { ... },"
            + " which holds every setting)");
      } else if (settings.contains(key) && !setInside.contains(key) && !referredTo(user, reference, key)) {
        problems.add(value.origin(), key, "a setting of meridian outside meridian { ... }, where it would be"
            + " ignored (expected: inside it, as meridian." + key + ")");
      }
    });
  }

  /** Whether a substitution in the file names the top-level key: without it, the file no longer resolves. */
  private static boolean referredTo(Config user, Config reference, String key) {
    try {
      user.withoutPath(ConfigUtil.joinPath(key)).withFallback(reference).resolve();
      return false;
    } catch (ConfigException e) {
      return true; // unresolved without it (or anything else the resolver says: not this check's to judge)
    }
  }

  /** Whether two words are at most two single-character edits apart (a misspelling). */
  private static boolean isNear(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()] <= 2;
  }

  private static MeridianSettings readSections(ObjectReader meridian, String source) {
    Optional<String> region = meridian.optionalString("region");
    TopologyReader topology = new TopologyReader(meridian);
    List<ListenerSettings> listeners = topology.listeners();
    AdminSettings admin = topology.admin(listeners);
    DiscoverySettings discovery = DiscoveryReader.settings(meridian);
    Map<String, BackendGroupSettings> groups = topology.backendGroups(region, discovery.kubernetes().zones());
    MeridianSettings.UpstreamSettings upstream = TuningReader.upstream(meridian);
    return new MeridianSettings(region, listeners, admin, groups,
        RouteReader.routes(meridian, groups.keySet(), upstream.connectAttempts()), TuningReader.server(meridian),
        TuningReader.limits(meridian), TuningReader.timeouts(meridian),
        upstream, TuningReader.headers(meridian),
        SteeringReader.geo(meridian, knownRegions(region, groups)),
        meridian.bool("debug-headers", false), meridian.optionalString("cookie-secret"),
        StickyReader.settings(meridian), CacheReader.settings(meridian),
        AccessLogReader.accessLog(meridian), AccessLogReader.tracing(meridian), TuningReader.paths(meridian),
        source, discovery);
  }

  /** Every region the configuration names: this instance's and its backends'. */
  public static java.util.Set<String> knownRegions(Optional<String> region, Map<String, BackendGroupSettings> groups) {
    java.util.Set<String> regions = new java.util.TreeSet<>();
    region.ifPresent(regions::add);
    groups.values().forEach(g -> g.backends().forEach(b -> regions.add(b.region())));
    groups.values().forEach(g -> g.sources().forEach(s -> {
      if (s instanceof BackendSourceSettings.Dns dns) {
        regions.add(dns.region());
      } else if (s instanceof BackendSourceSettings.Srv srv) {
        regions.add(srv.region());
      } else if (s instanceof BackendSourceSettings.File file) {
        regions.add(file.defaultRegion());
      } else if (s instanceof BackendSourceSettings.Kubernetes k) {
        regions.add(k.region().isEmpty() ? k.defaultRegion() : k.region());
        regions.addAll(k.zones().values());
      }
    }));
    return regions;
  }
}
