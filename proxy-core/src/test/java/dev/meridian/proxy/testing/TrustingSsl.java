package dev.meridian.proxy.testing;

import dev.meridian.tls.CertificatePair;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** A client TLS context that trusts one test certificate (a self-signed one a proxy under test serves). */
public final class TrustingSsl {
  private TrustingSsl() {}

  /** A context whose trust store holds {@code cert}'s certificate alone. */
  public static SSLContext trusting(CertificatePair cert) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(cert.cert())) {
      trust.setCertificateEntry("meridian", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, trustManagers.getTrustManagers(), null);
    return ssl;
  }
}
