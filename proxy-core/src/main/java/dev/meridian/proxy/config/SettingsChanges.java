package dev.meridian.proxy.config;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Says what a reload changed, for its log line: the listeners, routes and backend groups added
 * ({@code +}), removed ({@code -}) and changed ({@code ~}) by name, and the other sections that
 * changed by key ({@code timeouts}, {@code headers}, ...), never their values (a secret could be one).
 * An operator reading "configuration reloaded" then knows whether the edit they meant took.
 */
public final class SettingsChanges {
  private SettingsChanges() {}

  /** What changed from {@code before} to {@code after}, e.g. "routes +[api] ~[all]; timeouts", or "nothing". */
  public static String describe(MeridianSettings before, MeridianSettings after) {
    List<String> parts = new ArrayList<>();
    named(parts, "listeners", before.listeners(), after.listeners(), MeridianSettings.ListenerSettings::name);
    named(parts, "routes", before.routes(), after.routes(), MeridianSettings.RouteSettings::name);
    keyed(parts, "backend-groups", before.backendGroups(), after.backendGroups());
    List<String> others = new ArrayList<>();
    for (RecordComponent component : MeridianSettings.class.getRecordComponents()) {
      String name = component.getName();
      if (name.equals("listeners") || name.equals("routes") || name.equals("backendGroups") || name.equals("source")) {
        continue;
      }
      if (!Objects.equals(read(component, before), read(component, after))) {
        others.add(kebab(name));
      }
    }
    if (!others.isEmpty()) {
      parts.add(String.join(", ", others));
    }
    return parts.isEmpty() ? "nothing" : String.join("; ", parts);
  }

  private static <T> void named(List<String> parts, String what, List<T> before, List<T> after, Function<T, String> name) {
    Map<String, T> old = new LinkedHashMap<>();
    before.forEach(t -> old.putIfAbsent(name.apply(t), t));
    Map<String, T> now = new LinkedHashMap<>();
    after.forEach(t -> now.putIfAbsent(name.apply(t), t));
    keyed(parts, what, old, now);
  }

  private static <T> void keyed(List<String> parts, String what, Map<String, T> before, Map<String, T> after) {
    List<String> added = after.keySet().stream().filter(k -> !before.containsKey(k)).toList();
    List<String> removed = before.keySet().stream().filter(k -> !after.containsKey(k)).toList();
    List<String> changed = after.keySet().stream()
        .filter(k -> before.containsKey(k) && !Objects.equals(before.get(k), after.get(k))).toList();
    if (added.isEmpty() && removed.isEmpty() && changed.isEmpty()) {
      return;
    }
    StringBuilder part = new StringBuilder(what);
    if (!added.isEmpty()) {
      part.append(" +").append(added);
    }
    if (!removed.isEmpty()) {
      part.append(" -").append(removed);
    }
    if (!changed.isEmpty()) {
      part.append(" ~").append(changed);
    }
    parts.add(part.toString());
  }

  private static Object read(RecordComponent component, MeridianSettings settings) {
    try {
      return component.getAccessor().invoke(settings);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read " + component.getName(), e);
    }
  }

  /** {@code backendGroups} as the configuration spells it: {@code backend-groups}. */
  private static String kebab(String camel) {
    StringBuilder out = new StringBuilder(camel.length() + 4);
    for (char c : camel.toCharArray()) {
      if (Character.isUpperCase(c)) {
        out.append('-').append(Character.toLowerCase(c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
