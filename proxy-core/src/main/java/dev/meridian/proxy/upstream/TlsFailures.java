package dev.meridian.proxy.upstream;

import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * Says why TLS to a backend failed in an operator's words. The TLS engine reports a certificate the
 * trust store refused as a "General OpenSslEngine problem" handshake failure, and the connection then
 * looks merely closed; the certificate's problem is further down the cause chain.
 */
public final class TlsFailures {
  private TlsFailures() {}

  /**
   * What went wrong, when {@code cause} is a TLS failure: "TLS handshake failed: certificate not
   * trusted: ...", "TLS handshake failed: ..." or "TLS failed: ..."; null when it is not one.
   */
  public static String describe(Throwable cause) {
    SSLException tls = null;
    for (Throwable t = cause; t != null && t != t.getCause(); t = t.getCause()) {
      if (t instanceof CertificateException certificate) {
        return "TLS handshake failed: certificate not trusted: " + deepestMessage(certificate)
            + " (tls.trust names the CAs to trust; tls.server-name the name to check)";
      }
      if (tls == null && t instanceof SSLException ssl) {
        tls = ssl;
      }
    }
    if (tls == null) {
      return null;
    }
    return (tls instanceof SSLHandshakeException ? "TLS handshake failed: " : "TLS failed: ") + deepestMessage(tls);
  }

  private static String deepestMessage(Throwable t) {
    String message = t.getMessage();
    for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null) {
        message = c.getMessage();
      }
    }
    return message == null ? t.getClass().getSimpleName() : message;
  }
}
