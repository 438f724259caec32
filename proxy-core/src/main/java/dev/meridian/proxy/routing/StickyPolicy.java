package dev.meridian.proxy.routing;

import java.time.Duration;

/**
 * A route's sticky sessions ({@code routes[].sticky}): how a client is pinned to one backend of the
 * route's group, and what its cookie looks like. Read from the configuration by the config package.
 *
 * @param mode      {@link Mode#COOKIE} (Meridian issues a signed cookie naming the backend) or
 *                  {@link Mode#APP_COOKIE} (a consistent hash of an application's session cookie)
 * @param cookie    the name of Meridian's cookie (default {@code meridian_affinity})
 * @param ttl       the cookie's lifetime and how long a pin is honoured (default 1h)
 * @param secure    when the cookie carries {@code Secure} (default {@link Secure#AUTO}: on TLS connections)
 * @param httpOnly  whether it carries {@code HttpOnly} (default true)
 * @param sameSite  its {@code SameSite} value, {@code Lax} (default), {@code Strict} or {@code None},
 *                  or empty for none
 * @param path      its {@code Path} (default {@code /})
 * @param domain    its {@code Domain}, or empty for none (the default: the host that set it)
 * @param appCookie the application's session cookie, for {@link Mode#APP_COOKIE} (default JSESSIONID)
 * @param strict    when the pinned backend cannot take a request: false re-pins the client (default),
 *                  true answers 503 and never sends the session elsewhere
 * @param formerCookie the name the group's cookie had before Meridian renamed it (see
 *                  {@link #renamed}), or empty: a pin of this group found under it is honoured and
 *                  moved to {@code cookie}
 */
public record StickyPolicy(Mode mode, String cookie, Duration ttl, Secure secure, boolean httpOnly,
    String sameSite, String path, String domain, String appCookie, boolean strict, String formerCookie) {

  /** A policy whose cookie has had no other name. */
  public StickyPolicy(Mode mode, String cookie, Duration ttl, Secure secure, boolean httpOnly,
      String sameSite, String path, String domain, String appCookie, boolean strict) {
    this(mode, cookie, ttl, secure, httpOnly, sameSite, path, domain, appCookie, strict, "");
  }

  /** Who keeps the session's identity. */
  public enum Mode {
    /** Meridian's own signed cookie names the backend. */
    COOKIE,
    /** The application's session cookie is hashed onto the group's backends (bounded load). */
    APP_COOKIE
  }

  /** When the cookie carries the {@code Secure} attribute. */
  public enum Secure {
    /** Always. */
    ALWAYS,
    /** Never. */
    NEVER,
    /** On connections that arrived over TLS. */
    AUTO
  }

  /**
   * This policy with its cookie renamed to {@code name}; its present name becomes the
   * {@linkplain #formerCookie former} one, so pins made under it before the rename still hold.
   */
  public StickyPolicy renamed(String name) {
    return new StickyPolicy(mode, name, ttl, secure, httpOnly, sameSite, path, domain, appCookie, strict, cookie);
  }

  /** The cookie's lifetime in whole seconds, at least 1. */
  public long ttlSeconds() {
    return Math.max(1, ttl.toSeconds());
  }

  /**
   * The {@code Set-Cookie} value that pins a client: {@code NAME=VALUE} and the configured attributes.
   *
   * @param tls whether the client's connection is TLS (for {@link Secure#AUTO})
   */
  public String setCookie(String value, boolean tls) {
    StringBuilder out = new StringBuilder(cookie.length() + value.length() + 96);
    out.append(cookie).append('=').append(value).append("; Max-Age=").append(ttlSeconds());
    if (!path.isEmpty()) {
      out.append("; Path=").append(path);
    }
    if (!domain.isEmpty()) {
      out.append("; Domain=").append(domain);
    }
    if (secure == Secure.ALWAYS || (secure == Secure.AUTO && tls)) {
      out.append("; Secure");
    }
    if (httpOnly) {
      out.append("; HttpOnly");
    }
    if (!sameSite.isEmpty()) {
      out.append("; SameSite=").append(sameSite);
    }
    return out.toString();
  }
}
