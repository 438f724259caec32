package dev.meridian.proxy.config;

import dev.meridian.proxy.config.MeridianSettings.RouteSettings;
import dev.meridian.proxy.config.MeridianSettings.StickySettings;
import dev.meridian.proxy.routing.StickyPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads {@code routes[].sticky} and {@code meridian.sticky}, checking names and attributes for form. */
final class StickyReader {
  /** An RFC 6265 cookie name (an RFC 9110 token). */
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  /** A cookie attribute value: printable ASCII without ';'. */
  private static final Pattern ATTRIBUTE = Pattern.compile("[\\x21-\\x3a\\x3c-\\x7e]*");
  private static final Pattern DOMAIN = Pattern.compile("\\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*");

  /** The name of Meridian's cookie when a route names none (and no other group's routes use it). */
  private static final String DEFAULT_COOKIE = "meridian_affinity";

  private StickyReader() {}

  /** {@code meridian.sticky}: the keys file (resolved against the configuration's directory). */
  static StickySettings settings(ObjectReader meridian) {
    ObjectReader sticky = meridian.section("sticky");
    Optional<java.nio.file.Path> keysFile = sticky.optionalPath("keys-file");
    keysFile.ifPresent(file -> {
      if (!java.nio.file.Files.isRegularFile(file) || !java.nio.file.Files.isReadable(file)) {
        sticky.problem("keys-file", "cannot read " + file + " (expected: a readable JSON file of keys,"
            + " [ { \"id\": \"k1\", \"secret\": \"base64 of 32 random bytes\" } ])");
        return;
      }
      try {
        StickyKeyFile.load(file);
      } catch (InvalidConfigException e) {
        e.problems().forEach(sticky.problems()::add);
      }
    });
    return new StickySettings(keysFile, sticky.duration("reload-interval"));
  }

  /** A route's {@code sticky} object, if it has one. */
  static Optional<StickyPolicy> policy(ObjectReader route) {
    if (!route.has("sticky")) {
      return Optional.empty();
    }
    return route.object("sticky").map(StickyReader::read);
  }

  /**
   * Keeps the sticky cookies of different groups apart: a browser holds one cookie per name, path and
   * domain, so two groups' pins under one name would overwrite each other at every visit to the other
   * group's routes, and each group's sessions would move. When routes of more than one group use the
   * default name, each group's cookie is named {@code meridian_affinity_<group>} (and a group's pin
   * still found under the default name, from before a second group came, is honoured and moved to
   * the new name); names set explicitly that clash across groups are a problem at the later route's
   * {@code sticky.cookie}.
   *
   * @param elements the routes as read, in order (for problems and for whether a name was set)
   * @param routes   the routes made of them, in the same order
   */
  static List<RouteSettings> separateCookies(List<ObjectReader> elements, List<RouteSettings> routes) {
    java.util.Set<String> defaultNamedGroups = new java.util.HashSet<>();
    for (int i = 0; i < routes.size(); i++) {
      if (namesNoCookie(elements.get(i), routes.get(i))) {
        defaultNamedGroups.add(routes.get(i).backendGroup());
      }
    }
    List<RouteSettings> out = new ArrayList<>(routes.size());
    Map<String, String> groupByCookie = new HashMap<>();
    for (int i = 0; i < routes.size(); i++) {
      RouteSettings route = routes.get(i);
      if (defaultNamedGroups.size() > 1 && namesNoCookie(elements.get(i), route)) {
        String name = DEFAULT_COOKIE + "_" + cookieSafe(route.backendGroup());
        route = route.withSticky(route.sticky().map(p -> p.renamed(name)));
      }
      out.add(route);
      StickyPolicy sticky = route.sticky().orElse(null);
      if (sticky == null || sticky.mode() != StickyPolicy.Mode.COOKIE) {
        continue;
      }
      String other = groupByCookie.putIfAbsent(sticky.cookie() + "\0" + sticky.path() + "\0" + sticky.domain(),
          route.backendGroup());
      if (other != null && !other.equals(route.backendGroup())) {
        elements.get(i).object("sticky").ifPresent(section -> section.problem("cookie", "'" + sticky.cookie()
            + "' (path " + sticky.path() + ") is also the sticky cookie of group '" + other + "': the two groups'"
            + " pins would overwrite each other (expected: a cookie name of this group's own)"));
      }
    }
    return out;
  }

  /** Whether the route pins with Meridian's cookie without naming it. */
  private static boolean namesNoCookie(ObjectReader element, RouteSettings route) {
    return route.sticky().map(p -> p.mode() == StickyPolicy.Mode.COOKIE).orElse(false)
        && element.object("sticky").map(section -> !section.has("cookie")).orElse(false);
  }

  /** A group name as part of a cookie name: characters a token cannot hold become '_'. */
  private static String cookieSafe(String group) {
    StringBuilder out = new StringBuilder(group.length());
    for (int i = 0; i < group.length(); i++) {
      char c = group.charAt(i);
      out.append(TOKEN.matcher(String.valueOf(c)).matches() ? c : '_');
    }
    return out.toString();
  }

  private static StickyPolicy read(ObjectReader s) {
    String modeName = s.string("mode", "cookie").trim().toLowerCase(Locale.ROOT);
    StickyPolicy.Mode mode = switch (modeName) {
      case "cookie" -> StickyPolicy.Mode.COOKIE;
      case "app-cookie" -> StickyPolicy.Mode.APP_COOKIE;
      default -> {
        s.problem("mode", "'" + modeName + "' (expected: cookie or app-cookie)");
        yield StickyPolicy.Mode.COOKIE;
      }
    };
    String cookie = token(s, "cookie", DEFAULT_COOKIE);
    String appCookie = token(s, "app-cookie", "JSESSIONID");
    Duration ttl = s.has("ttl") ? s.duration("ttl") : Duration.ofHours(1);
    String secureText = s.string("secure", "auto").trim().toLowerCase(Locale.ROOT);
    StickyPolicy.Secure secure = switch (secureText) {
      case "true" -> StickyPolicy.Secure.ALWAYS;
      case "false" -> StickyPolicy.Secure.NEVER;
      case "auto" -> StickyPolicy.Secure.AUTO;
      default -> {
        s.problem("secure", "'" + secureText + "' (expected: true, false, or auto for connections over TLS)");
        yield StickyPolicy.Secure.AUTO;
      }
    };
    String sameSiteText = s.string("same-site", "lax").trim().toLowerCase(Locale.ROOT);
    String sameSite = switch (sameSiteText) {
      case "lax" -> "Lax";
      case "strict" -> "Strict";
      case "none" -> "None";
      case "", "off" -> "";
      default -> {
        s.problem("same-site", "'" + sameSiteText + "' (expected: lax, strict, none, or off for no attribute)");
        yield "Lax";
      }
    };
    if (sameSite.equals("None") && secure != StickyPolicy.Secure.ALWAYS) {
      s.problem("same-site", "none needs secure = true: browsers drop SameSite=None cookies without Secure"
          + " (expected: secure = true, or same-site lax, strict or off)");
    }
    String path = s.string("path", "/");
    if (!path.startsWith("/") || !ATTRIBUTE.matcher(path).matches()) {
      s.problem("path", "'" + path + "' (expected: a path such as / or /shop, without ';' or spaces)");
    }
    String domain = s.string("domain", "");
    if (!domain.isEmpty() && !DOMAIN.matcher(domain).matches()) {
      s.problem("domain", "'" + domain + "' (expected: a domain such as example.com, or \"\" for the host that set it)");
    }
    checkPrefix(s, cookie, secure, path, domain);
    return new StickyPolicy(mode, cookie, ttl, secure, s.bool("http-only", true), sameSite, path, domain,
        appCookie, s.bool("strict", false));
  }

  /**
   * A cookie name with a {@code __Secure-} or {@code __Host-} prefix binds its attributes (RFC 6265bis
   * section 4.1.3): browsers drop such a cookie without Secure, and a {@code __Host-} one with a Domain
   * or a Path other than /. Sticky sessions would silently never hold.
   */
  private static void checkPrefix(ObjectReader s, String cookie, StickyPolicy.Secure secure, String path,
      String domain) {
    boolean host = cookie.regionMatches(true, 0, "__Host-", 0, 7);
    if (!host && !cookie.regionMatches(true, 0, "__Secure-", 0, 9)) {
      return;
    }
    String prefix = host ? "__Host-" : "__Secure-";
    if (secure != StickyPolicy.Secure.ALWAYS) {
      s.problem("secure", "a " + prefix + " cookie needs secure = true: browsers drop it without Secure"
          + " (expected: secure = true, or a cookie name without the prefix)");
    }
    if (host && (!path.equals("/") || !domain.isEmpty())) {
      s.problem("cookie", "a __Host- cookie must have path \"/\" and no domain: browsers drop it otherwise"
          + " (expected: path = \"/\" and domain = \"\", or a name without the prefix)");
    }
  }

  private static String token(ObjectReader s, String key, String dflt) {
    String name = s.string(key, dflt);
    if (!TOKEN.matcher(name).matches()) {
      s.problem(key, "'" + name + "' is not a cookie name (expected: letters, digits and !#$%&'*+.^_`|~-)");
      return dflt;
    }
    return name;
  }
}
