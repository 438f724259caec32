package dev.meridian.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server contexts of one TLS listener, one per certificate, chosen by SNI.
 *
 * <p>Each context: the OpenSSL provider (the JDK provider only when BoringSSL cannot load, see
 * {@link TlsDefaults#provider()}), {@link TlsDefaults#PROTOCOLS}, {@link TlsDefaults#CIPHER_SUITES} in
 * server order, ALPN {@code h2} and {@code http/1.1}, a session cache of
 * {@link TlsDefaults#SESSION_CACHE_SIZE} sessions for {@link TlsDefaults#SESSION_TIMEOUT_SECONDS}
 * seconds, tickets sealed with the listener's {@link SessionTicketKeys}, client certificates checked
 * against the client CA when asked for, and the OCSP response file stapled when configured.
 *
 * <p>Names come from the certificates: their DNS subject alternative names, or the subject CN when
 * there are none; {@code *.example.com} matches one label. When two certificates claim a name, the
 * earlier one keeps it. No SNI, or a name nobody claims, gets the first certificate.
 *
 * <p>Immutable: use it as the {@link Mapping} of an {@link io.netty.handler.ssl.SniHandler}
 * ({@code new SniHandler(contexts)}), or {@link CertificateReloader#mapping()} to follow file changes.
 */
public final class ServerTlsContexts implements Mapping<String, SslContext> {
    private static final Logger log = LoggerFactory.getLogger(ServerTlsContexts.class);

    private final List<ServerSslContext> contexts;
    private final Mapping<String, SslContext> byName;

    /** OCSP responses come from the certificates' responders (no response file, and BoringSSL staples). */
    private final boolean responderStapling;

    private ServerTlsContexts(List<ServerSslContext> contexts, Mapping<String, SslContext> byName,
            boolean responderStapling) {
        this.responderStapling = responderStapling;
        this.contexts = contexts;
        this.byName = byName;
    }

    /** Builds the contexts with fresh session ticket keys. */
    public static ServerTlsContexts build(ServerTlsSettings settings) {
        return build(settings, new SessionTicketKeys());
    }

    /**
     * Builds one context per certificate of {@code settings}, all sharing {@code ticketKeys}.
     *
     * @throws TlsConfigException naming the file that is missing, unreadable or does not match
     */
    public static ServerTlsContexts build(ServerTlsSettings settings, SessionTicketKeys ticketKeys) {
        SslProvider provider = TlsDefaults.provider();
        List<X509Certificate> clientCas = settings.clientCa().map(PemFiles::readCertificates).orElse(null);
        byte[] ocsp = settings.ocspResponse().map(ServerTlsContexts::readOcsp).orElse(null);
        if (ocsp != null && !(provider == SslProvider.OPENSSL && OpenSsl.isOcspSupported())) {
            log.warn("ocsp-response {} is not stapled: the OpenSSL provider is not available", settings.ocspResponse().get());
            ocsp = null;
        }
        List<ServerSslContext> contexts = new ArrayList<>();
        for (CertificatePair pair : settings.certificates()) {
            ServerSslContext context = buildOne(pair, provider, settings.clientAuth(), clientCas, ocsp);
            ticketKeys.applyTo(context);
            contexts.add(context);
        }
        DomainWildcardMappingBuilder<SslContext> names = new DomainWildcardMappingBuilder<>(contexts.get(0));
        Set<String> claimed = new LinkedHashSet<>();
        for (ServerSslContext context : contexts) {
            for (String name : context.hostNames()) {
                if (claimed.add(name)) {
                    names.add(name, context);
                } else {
                    log.warn("TLS name {} is in several certificates; the first listed serves it", name);
                }
            }
        }
        boolean responderStapling = ocsp == null && settings.ocspResponse().isEmpty()
                && provider == SslProvider.OPENSSL && OpenSsl.isOcspSupported();
        return new ServerTlsContexts(List.copyOf(contexts), names.build(), responderStapling);
    }

    /**
     * Whether a certificate's OCSP status can be fetched from its responder and stapled: it names one
     * (AIA), its chain file carries the issuer, and the OpenSSL provider staples.
     */
    private static boolean staplesFromResponder(List<X509Certificate> chain, SslProvider provider) {
        return chain.size() > 1 && OcspClient.responderOf(chain.get(0)).isPresent()
                && provider == SslProvider.OPENSSL && OpenSsl.isOcspSupported();
    }

    /** Contexts whose certificate's OCSP status is fetched from its responder (none with an ocsp-response file). */
    List<ServerSslContext> staplingFromResponder() {
        if (!responderStapling) {
            return List.of();
        }
        return contexts.stream()
                .filter(c -> c.issuer() != null && OcspClient.responderOf(c.certificate()).isPresent())
                .toList();
    }

    /** The context for an SNI host name; the default one for {@code null} or an unknown name. */
    @Override
    public SslContext map(String hostName) {
        if (hostName == null) {
            return contexts.get(0);
        }
        try {
            return byName.map(hostName);
        } catch (IllegalArgumentException notAName) {
            // Netty's mapping converts the name with IDN.toASCII, which throws for bytes no host name
            // has (control bytes, prohibited code points): such a name has no certificate of its own.
            return contexts.get(0);
        }
    }

    /** The context of the first certificate, served without SNI or for an unknown name. */
    public SslContext defaultContext() {
        return contexts.get(0);
    }

    /** All contexts, in the order of the configured certificates. */
    public List<SslContext> contexts() {
        return List.copyOf(contexts);
    }

    /** The host names each certificate claims, in configuration order (lower case). */
    public List<List<String>> hostNames() {
        return contexts.stream().map(ServerSslContext::hostNames).toList();
    }

    /**
     * The certificates for a log line, in configuration order: each one's host names, serial number
     * (hex, as {@code openssl x509 -serial} prints it) and the expiry of its chain, so that a start
     * or a reload says which certificate is served now, not only for which names.
     */
    public String describe() {
        return contexts.stream().map(c -> c.hostNames() + " serial " + serial(c.certificate().getSerialNumber())
                + " until " + c.chainExpiry()).collect(java.util.stream.Collectors.joining("; "));
    }

    /** A certificate's serial number in hex, an even number of digits (openssl x509 -serial's form). */
    static String serial(java.math.BigInteger number) {
        String hex = number.toString(16).toUpperCase(java.util.Locale.ROOT);
        return hex.length() % 2 == 0 ? hex : "0" + hex;
    }

    /**
     * When the first of these certificates expires (the earliest {@code notAfter} of every chain
     * served, leaves and intermediates): what an operator alerts on before clients start refusing
     * the listener.
     */
    public java.time.Instant earliestExpiry() {
        return contexts.stream().map(ServerSslContext::chainExpiry)
                .min(java.util.Comparator.naturalOrder()).orElseThrow();
    }

    /** The leaf certificate served for {@code hostName} (same rules as {@link #map}). */
    public X509Certificate certificateFor(String hostName) {
        return ((ServerSslContext) map(hostName)).certificate();
    }

    private static ServerSslContext buildOne(CertificatePair pair, SslProvider provider, ClientAuth clientAuth,
            List<X509Certificate> clientCas, byte[] ocsp) {
        List<X509Certificate> chain = PemFiles.readCertificates(pair.cert());
        PrivateKey key = PemFiles.readPrivateKey(pair.key());
        PemFiles.checkKeyMatches(chain.get(0), key, pair.cert(), pair.key());
        List<String> hostNames = hostNames(chain.get(0));
        warnIfOutOfDate(chain.get(0), pair.cert(), java.time.Instant.now());
        if (hostNames.isEmpty()) {
            log.warn("{} names no host (no DNS subject alternative name, no CN): it is only served as the default",
                    pair.cert());
        }
        SslContextBuilder builder = SslContextBuilder.forServer(key, chain)
                .sslProvider(provider)
                .protocols(TlsDefaults.PROTOCOLS)
                .ciphers(TlsDefaults.CIPHER_SUITES, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(TlsDefaults.ALPN)
                .sessionCacheSize(TlsDefaults.SESSION_CACHE_SIZE)
                .sessionTimeout(TlsDefaults.SESSION_TIMEOUT_SECONDS)
                .clientAuth(clientAuth)
                .enableOcsp(ocsp != null || staplesFromResponder(chain, provider));
        if (clientCas != null) {
            builder.trustManager(clientCas);
        }
        try {
            SslContext built = builder.build();
            if (built.sessionContext() instanceof io.netty.handler.ssl.OpenSslServerSessionContext sessions) {
                // Sessions resume only under a certificate for the same names: a session (ID or
                // ticket, whose keys the listener's certificates share) made for a.test is not
                // resumed under another certificate's name (RFC 6066 section 3), while a renewed
                // certificate for the same names keeps its clients' sessions.
                sessions.setSessionIdContext(sessionIdContext(hostNames));
            }
            return new ServerSslContext(built, hostNames, chain, ocsp);
        } catch (SSLException | RuntimeException e) {
            throw new TlsConfigException(pair.cert() + ", " + pair.key() + ": TLS context not built (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The session ID context of a certificate's contexts: the SHA-256 of the host names it serves, in
     * order (BoringSSL takes 32 bytes at most), so a renewal for the same names keeps it.
     */
    static byte[] sessionIdContext(List<String> hostNames) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256")
                    .digest(String.join("\n", hostNames).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256", e);
        }
    }

    /**
     * Logs a warning for a certificate that clients refuse now (expired, or not valid yet): it is
     * still served, as nginx and HAProxy serve it, since refusing it would take the listener down
     * rather than leave the choice to the clients, but the operator hears of it at once.
     */
    static boolean warnIfOutOfDate(X509Certificate certificate, java.nio.file.Path file, java.time.Instant now) {
        java.time.Instant notAfter = certificate.getNotAfter().toInstant();
        java.time.Instant notBefore = certificate.getNotBefore().toInstant();
        if (now.isAfter(notAfter)) {
            log.warn("{} expired on {}: clients that check certificates refuse this listener's TLS until it is"
                    + " replaced", file, notAfter);
            return true;
        }
        if (now.isBefore(notBefore)) {
            log.warn("{} is not valid until {}: clients that check certificates refuse it until then (is the clock"
                    + " right?)", file, notBefore);
            return true;
        }
        return false;
    }

    /** DNS subject alternative names, else the subject CN; lower case. */
    static List<String> hostNames(X509Certificate certificate) {
        Set<String> names = new LinkedHashSet<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (Integer.valueOf(2).equals(san.get(0))) { // dNSName
                        names.add(((String) san.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            log.warn("Unreadable subject alternative names in {}: {}", certificate.getSubjectX500Principal(), e.getMessage());
        }
        if (names.isEmpty()) {
            try {
                for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                    if (rdn.getType().equalsIgnoreCase("CN")) {
                        names.add(rdn.getValue().toString().toLowerCase(Locale.ROOT));
                    }
                }
            } catch (InvalidNameException e) {
                log.warn("Unreadable subject {}: {}", certificate.getSubjectX500Principal(), e.getMessage());
            }
        }
        return List.copyOf(names);
    }

    private static byte[] readOcsp(Path file) {
        try {
            byte[] der = Files.readAllBytes(file);
            if (der.length == 0 || der[0] != 0x30) {
                throw new TlsConfigException(file + ": not a DER OCSP response (expected: the binary output of"
                        + " 'openssl ocsp -respout')");
            }
            return der;
        } catch (IOException e) {
            throw new TlsConfigException(file + ": OCSP response not readable (" + e + ")", e);
        }
    }
}
