package dev.meridian.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.NetUtil;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * Client TLS for connections to backends.
 *
 * <p>The context: the OpenSSL provider when available, TLS 1.3 and 1.2, the same forward-secret AEAD
 * suites as the listeners, the trust file's CAs or else the JDK's system trust store, and the client
 * certificate for mTLS when configured. The handler: SNI and hostname verification against the
 * configured server name or else the backend's host. Verification fails closed: a certificate that
 * does not chain to a trusted CA, or (with {@code verify-hostname}, the default) does not name the
 * host, fails the handshake and the connection; nothing is sent to the backend.
 */
public final class UpstreamTlsContexts {
    private UpstreamTlsContexts() {}

    /** A client context without ALPN (HTTP/1.1 backends). */
    public static SslContext client(UpstreamTlsSettings settings) {
        return client(settings, List.of());
    }

    /**
     * A client context offering {@code alpnProtocols} (e.g. {@code List.of("h2")}) when not empty.
     *
     * @throws IllegalArgumentException when {@code settings} has TLS disabled
     * @throws TlsConfigException naming the trust, cert or key file that is unusable
     */
    public static SslContext client(UpstreamTlsSettings settings, List<String> alpnProtocols) {
        if (!settings.enabled()) {
            throw new IllegalArgumentException("upstream TLS is disabled (tls.enabled = false): no client context");
        }
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(TlsDefaults.provider())
                .protocols(TlsDefaults.PROTOCOLS)
                .ciphers(TlsDefaults.CIPHER_SUITES, SupportedCipherSuiteFilter.INSTANCE)
                .endpointIdentificationAlgorithm(settings.verifyHostname() ? "HTTPS" : null);
        if (settings.trust().isPresent()) {
            builder.trustManager(PemFiles.readCertificates(settings.trust().get()));
        } // else: Netty uses the JDK's default TrustManagerFactory, the system trust store
        if (settings.clientCert().isPresent()) {
            List<X509Certificate> chain = PemFiles.readCertificates(settings.clientCert().get());
            PrivateKey key = PemFiles.readPrivateKey(settings.clientKey().orElseThrow());
            PemFiles.checkKeyMatches(chain.get(0), key, settings.clientCert().get(), settings.clientKey().get());
            builder.keyManager(key, chain);
        }
        if (!alpnProtocols.isEmpty()) {
            builder.applicationProtocolConfig(new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    alpnProtocols));
        }
        try {
            return builder.build();
        } catch (SSLException | RuntimeException e) {
            throw new TlsConfigException("upstream TLS context not built (" + e.getMessage() + ")", e);
        }
    }

    /**
     * A handler for a connection to {@code host:port}: SNI and, unless {@code verify-hostname = false},
     * hostname verification use {@code settings.serverName()} when set, else {@code host}.
     */
    public static SslHandler newHandler(SslContext context, UpstreamTlsSettings settings, ByteBufAllocator alloc,
            String host, int port) {
        if (!context.isClient()) {
            throw new IllegalArgumentException("upstream TLS needs a client context (see UpstreamTlsContexts.client)");
        }
        String peer = settings.serverName().orElse(host);
        SslHandler handler = context.newHandler(alloc, peer, port);
        SSLEngine engine = handler.engine();
        SSLParameters parameters = engine.getSSLParameters();
        if (settings.verifyHostname()) {
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
        }
        if (!NetUtil.isValidIpV4Address(peer) && !NetUtil.isValidIpV6Address(peer)) {
            parameters.setServerNames(List.of(new SNIHostName(peer)));
        }
        engine.setSSLParameters(parameters);
        if (settings.verifyHostname() && !"HTTPS".equals(engine.getSSLParameters().getEndpointIdentificationAlgorithm())) {
            throw new IllegalStateException("hostname verification could not be enabled on " + engine.getClass().getName());
        }
        return handler;
    }
}
