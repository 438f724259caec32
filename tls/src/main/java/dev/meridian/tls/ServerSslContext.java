package dev.meridian.tls;

import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * A server context for one certificate that sets what Netty's builder cannot on each new engine:
 * the server's cipher order on the JDK provider (BoringSSL has it on already) and the stapled OCSP
 * response on the OpenSSL provider.
 */
final class ServerSslContext extends DelegatingSslContext {
    private final List<String> hostNames;
    private final X509Certificate certificate;
    private final X509Certificate issuer;
    private final java.time.Instant chainExpiry;
    private volatile byte[] ocspResponse;

    /**
     * @param chain the certificates served, leaf first: the leaf, and its issuer when the chain
     *              carries it
     */
    ServerSslContext(SslContext delegate, List<String> hostNames, List<X509Certificate> chain, byte[] ocspResponse) {
        super(delegate);
        this.hostNames = List.copyOf(hostNames);
        this.certificate = chain.get(0);
        this.issuer = chain.size() > 1 ? chain.get(1) : null;
        this.chainExpiry = chain.stream().map(c -> c.getNotAfter().toInstant())
                .min(java.util.Comparator.naturalOrder()).orElseThrow();
        this.ocspResponse = ocspResponse;
    }

    /**
     * When the first certificate of the chain served expires: the leaf's, or an intermediate's
     * that expires before it (clients then refuse the chain though the leaf is current).
     */
    java.time.Instant chainExpiry() {
        return chainExpiry;
    }

    /** The certificate's issuer, when the chain file carries it (OCSP needs it); null otherwise. */
    X509Certificate issuer() {
        return issuer;
    }

    /** Staples {@code response} (DER) to new handshakes from now on; null stops stapling. */
    void staple(byte[] response) {
        this.ocspResponse = response;
    }

    /** The OCSP response stapled to new handshakes, or null. */
    byte[] stapled() {
        return ocspResponse;
    }

    List<String> hostNames() {
        return hostNames;
    }

    X509Certificate certificate() {
        return certificate;
    }

    @Override
    protected void initEngine(SSLEngine engine) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            byte[] response = ocspResponse;
            if (response != null) {
                openSsl.setOcspResponse(response);
            }
        } else {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setUseCipherSuitesOrder(true);
            engine.setSSLParameters(parameters);
        }
    }
}
