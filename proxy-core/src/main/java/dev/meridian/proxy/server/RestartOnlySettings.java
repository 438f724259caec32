package dev.meridian.proxy.server;

import dev.meridian.proxy.config.MeridianSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The settings a reload cannot put in force, and the warning a reload logs when one of them changed:
 * they size or start what lives as long as the process (event loops, the admin listener, the edge
 * cache, the access log, the sticky keys' watch, the geo resolver). The list is the
 * one reference.conf gives near its top.
 */
final class RestartOnlySettings {
  private static final Logger log = LoggerFactory.getLogger(RestartOnlySettings.class);

  /** A key (or section) that needs a restart, and how to read it from the settings. */
  private record Key(String name, Function<MeridianSettings, Object> value) {}

  private static final List<Key> KEYS = List.of(
      new Key("admin", MeridianSettings::admin),
      new Key("server.transport", s -> s.server().transport()),
      new Key("server.event-loop-threads", s -> s.server().eventLoopThreads()),
      new Key("sticky", MeridianSettings::sticky),
      new Key("cache", MeridianSettings::cache),
      new Key("access-log", MeridianSettings::accessLog),
      new Key("geo", MeridianSettings::geo));

  private RestartOnlySettings() {}

  /** The restart-only keys whose value differs between the two configurations, in a fixed order (tests). */
  static List<String> changed(MeridianSettings current, MeridianSettings next) {
    List<String> out = new ArrayList<>();
    for (Key key : KEYS) {
      if (!Objects.equals(key.value().apply(current), key.value().apply(next))) {
        out.add("meridian." + key.name());
      }
    }
    return out;
  }

  /**
   * Logs a warning naming each restart-only key the reload to {@code next} changed, against the last
   * configuration applied, that differs from what the process started with ({@code started}, what is in
   * force for these keys); a key set back to its value in force is said to be so.
   */
  static void logChanges(MeridianSettings started, MeridianSettings current, MeridianSettings next) {
    List<String> pending = changed(started, next);
    List<String> changed = changed(current, next).stream().filter(pending::contains).toList();
    if (!changed.isEmpty()) {
      log.warn("configuration reload: {} changed; {} effect after a restart only", String.join(", ", changed),
          changed.size() == 1 ? "that takes" : "those take");
    }
    List<String> back = changed(current, next).stream().filter(k -> !pending.contains(k)).toList();
    if (!back.isEmpty()) {
      log.info("configuration reload: {} back to the value in force (no restart needed)", String.join(", ", back));
    }
  }
}
