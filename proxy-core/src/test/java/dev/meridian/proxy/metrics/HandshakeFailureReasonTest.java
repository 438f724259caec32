package dev.meridian.proxy.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A failed TLS handshake is counted by what an operator acts on, read from the errors BoringSSL
 * reported to Meridian's listener (messages as logged by the jar against openssl s_client and curl),
 * not by Java exception class (one class covered a TLS 1.1 client, a missing client certificate and
 * a shared cipher missing alike).
 */
class HandshakeFailureReasonTest {
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "error:100000f0:SSL routines:OPENSSL_internal:UNSUPPORTED_PROTOCOL | protocol-version",
      "error:100000b8:SSL routines:OPENSSL_internal:NO_SHARED_CIPHER | no-shared-cipher",
      "error:100000c0:SSL routines:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE | no-client-certificate",
      "error:1000009c:SSL routines:OPENSSL_internal:HTTP_REQUEST | not-tls",
      "error:10000412:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE | certificate-rejected-by-client",
      "error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA | certificate-rejected-by-client",
      "error:100000e0:SSL routines:OPENSSL_internal:NO_APPLICATION_PROTOCOL | alpn",
      "error:10000070:SSL routines:OPENSSL_internal:BAD_PACKET_LENGTH | other"})
  void boringSslErrorsAreReadAsReasons(String message, String reason) {
    assertThat(EdgeMeters.handshakeFailureReason(new DecoderException(new SSLHandshakeException(message))))
        .isEqualTo(reason);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"not-tls", "timeout", "closed", "bad-client-certificate"})
  void exceptionsSayTheirReasonThemselves(String reason) {
    Throwable cause = switch (reason) {
      case "not-tls" -> new NotSslRecordException("not an SSL/TLS record");
      case "timeout" -> new SslHandshakeTimeoutException("handshake timed out after 15000ms");
      case "closed" -> new ClosedChannelException();
      default -> new SSLHandshakeException("General OpenSslEngine problem")
          .initCause(new java.security.cert.CertificateException("unable to find valid certification path"));
    };
    assertThat(EdgeMeters.handshakeFailureReason(new DecoderException(cause))).isEqualTo(reason);
  }
}
