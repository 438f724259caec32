package dev.meridian.proxy.config;

import dev.meridian.tls.CertificatePair;
import dev.meridian.tls.ServerTlsContexts;
import dev.meridian.tls.ServerTlsSettings;
import dev.meridian.tls.TlsConfigException;
import dev.meridian.tls.UpstreamTlsContexts;
import dev.meridian.tls.UpstreamTlsSettings;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads {@code listeners[].tls} and checks it the way the listener will use it: every certificate
 * and key is loaded, so a missing file, a key that does not match its certificate or an unreadable
 * PEM is reported at check time with the file named. Relative paths are resolved against the
 * directory of the configuration file.
 */
final class TlsReader {
  private TlsReader() {}

  /** Reads a listener's TLS settings, or empty with problems recorded. */
  static Optional<ServerTlsSettings> server(ObjectReader tls) {
    List<CertificatePair> pairs = new ArrayList<>();
    for (ObjectReader c : tls.elements("certificates", "{ cert, key } objects")) {
      Optional<Path> cert = c.requiredPath("cert");
      Optional<Path> key = c.requiredPath("key");
      if (cert.isPresent() && key.isPresent()) {
        pairs.add(new CertificatePair(cert.get(), key.get()));
      }
    }
    if (pairs.isEmpty()) {
      tls.problem("certificates", "no certificate (expected: certificates = [ { cert = \"site.pem\", key = \"site.key\" } ])");
      return Optional.empty();
    }
    String auth = tls.string("client-auth", "none").toLowerCase(Locale.ROOT);
    ClientAuth clientAuth = switch (auth) {
      case "none" -> ClientAuth.NONE;
      case "optional" -> ClientAuth.OPTIONAL;
      case "require" -> ClientAuth.REQUIRE;
      default -> {
        tls.problem("client-auth", "'" + auth + "' (expected: none, optional or require)");
        yield ClientAuth.NONE;
      }
    };
    try {
      ServerTlsSettings settings = new ServerTlsSettings(pairs, clientAuth,
          tls.optionalPath("client-ca"), tls.optionalPath("ocsp-response"));
      ServerTlsContexts.build(settings);
      return Optional.of(settings);
    } catch (TlsConfigException | IllegalArgumentException e) {
      tls.problem("certificates", e.getMessage());
      return Optional.empty();
    }
  }

  /** Reads {@code backend-groups.NAME.tls} and builds its client context once to check the files. */
  static UpstreamTlsSettings upstream(ObjectReader tls) {
    try {
      UpstreamTlsSettings settings = new UpstreamTlsSettings(tls.bool("enabled", true),
          tls.optionalPath("trust"), tls.optionalString("server-name"),
          tls.bool("verify-hostname", true), tls.optionalPath("client-cert"),
          tls.optionalPath("client-key"));
      if (settings.enabled()) {
        UpstreamTlsContexts.client(settings, List.of(ApplicationProtocolNames.HTTP_1_1));
      }
      return settings;
    } catch (TlsConfigException | IllegalArgumentException e) {
      tls.problem("enabled", e.getMessage());
      return UpstreamTlsSettings.DISABLED;
    }
  }
}
