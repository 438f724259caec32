package dev.meridian.proxy.admin;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Who may use the admin API: with a token configured, a call must carry it as
 * {@code Authorization: Bearer <token>} (the dashboard keeps it in the tab's session storage, which
 * belongs to the admin page's origin alone, and sends it so). No cookie carries it: a browser sends a
 * host's cookies to each of its ports, the proxy's own listeners among them, whose backends would
 * get it. Tokens are compared in constant time. {@code /healthz}, {@code /readyz} and the dashboard's
 * static files need no token: they tell nothing.
 */
final class AdminAuth {
  private final byte[] token;

  AdminAuth(Optional<String> token) {
    this.token = token.map(t -> t.getBytes(StandardCharsets.US_ASCII)).orElse(null);
  }

  /** Whether a token is required at all. */
  boolean required() {
    return token != null;
  }

  /** Whether a request with these headers may use the admin API. */
  boolean admits(HttpHeaders headers) {
    if (token == null) {
      return true;
    }
    String authorization = headers.get(HttpHeaderNames.AUTHORIZATION);
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return matches(authorization.substring(7).trim());
    }
    return false;
  }

  private boolean matches(String given) {
    return MessageDigest.isEqual(token, given.getBytes(StandardCharsets.US_ASCII));
  }

  /** Whether a path is open to anyone: the instance's own health and the dashboard's static files. */
  static boolean isOpen(String path) {
    return path.equals("/healthz") || path.equals("/readyz") || path.equals("/") || path.equals("/dashboard") || path.equals("/dashboard.js")
        || path.equals("/dashboard.css") || path.equals("/favicon.svg");
  }
}
