/**
 * TLS for Meridian: server contexts on BoringSSL (netty-tcnative) with a logged JDK fallback, several
 * certificates per listener chosen by SNI from the names inside the certificates, ALPN for {@code h2}
 * and {@code http/1.1}, session tickets with rotating keys, OCSP stapling from a file or from the
 * certificate's own responder, hot
 * reload of certificate files ({@link dev.meridian.tls.CertificateReloader}), client contexts for
 * upstream TLS that fail closed on a hostname mismatch, and self-signed certificates for
 * {@code meridian demo}. Settings are plain records ({@link dev.meridian.tls.ServerTlsSettings},
 * {@link dev.meridian.tls.UpstreamTlsSettings}); this package never reads configuration files.
 */
package dev.meridian.tls;
