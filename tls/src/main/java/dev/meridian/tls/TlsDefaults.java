package dev.meridian.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Protocols, cipher suites, ALPN and session settings shared by server and client contexts. */
public final class TlsDefaults {
    private static final Logger log = LoggerFactory.getLogger(TlsDefaults.class);

    /** TLS 1.3 and 1.2 only. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /**
     * Forward-secret AEAD suites only: the three TLS 1.3 suites, then ECDHE with AES-GCM or
     * ChaCha20-Poly1305 for TLS 1.2, in the server's order of preference. (BoringSSL always enables
     * all three TLS 1.3 suites.)
     */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");

    /** Server session cache: 20,480 sessions. */
    public static final long SESSION_CACHE_SIZE = 20_480;

    /** Server session (and ticket) lifetime: 300 seconds. */
    public static final long SESSION_TIMEOUT_SECONDS = 300;

    /** ALPN offering {@code h2} then {@code http/1.1}; no overlap means no protocol selected (HTTP/1.1). */
    public static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            // NO_ADVERTISE and ACCEPT are the only behaviours the OpenSSL provider supports.
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2,
            ApplicationProtocolNames.HTTP_1_1);

    private static volatile boolean fallbackLogged;

    private TlsDefaults() {}

    /** OPENSSL (BoringSSL) when the native library loads, else JDK, logged once with the cause. */
    public static SslProvider provider() {
        if (OpenSsl.isAvailable()) {
            return SslProvider.OPENSSL;
        }
        if (!fallbackLogged) {
            fallbackLogged = true;
            log.warn("BoringSSL (netty-tcnative) is not available, using the slower JDK TLS provider;"
                    + " session ticket rotation and OCSP stapling are off", OpenSsl.unavailabilityCause());
        }
        return SslProvider.JDK;
    }
}
