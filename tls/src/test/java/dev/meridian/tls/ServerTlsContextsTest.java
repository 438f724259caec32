package dev.meridian.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ServerTlsContextsTest {
    @TempDir
    Path dir;

    private TestPki pki;
    private TestPki.Issued fallback;
    private TestPki.Issued alpha;
    private TestPki.Issued wildcard;
    private TlsTestPeers peers;

    @BeforeEach
    void setUp() throws Exception {
        pki = new TestPki(dir, "test-ca");
        fallback = pki.issue("default", "default.test");
        alpha = pki.issue("alpha", "alpha.test", "www.alpha.test");
        wildcard = pki.issue("wild", "*.wild.test");
        peers = new TlsTestPeers();
    }

    @AfterEach
    void tearDown() {
        peers.close();
    }

    private ServerTlsSettings settings(ClientAuth clientAuth) {
        return new ServerTlsSettings(List.of(fallback.files(), alpha.files(), wildcard.files()), clientAuth,
                clientAuth == ClientAuth.NONE ? Optional.empty() : Optional.of(pki.caFile()), Optional.empty());
    }

    private SslContextBuilder client() {
        return SslContextBuilder.forClient().trustManager(pki.caFile().toFile()).endpointIdentificationAlgorithm(null);
    }

    @Test
    void runsOnBoringSsl() {
        assertThat(OpenSsl.isAvailable()).as("netty-tcnative BoringSSL loads here").isTrue();
        assertThat(TlsDefaults.provider()).isEqualTo(SslProvider.OPENSSL);
    }

    @Test
    void readsHostNamesFromCertificates() {
        ServerTlsContexts contexts = ServerTlsContexts.build(settings(ClientAuth.NONE));
        assertThat(contexts.hostNames()).containsExactly(
                List.of("default.test"), List.of("alpha.test", "www.alpha.test"), List.of("*.wild.test"));
    }

    /**
     * An SNI name that is no host name (with a code point IDN prohibits, here U+009B: Netty's mapping
     * throws for it) gets the default certificate, as an unknown name does, instead of an exception
     * that each such ClientHello logged with its stack trace.
     */
    @Test
    void aNameThatIsNoHostNameMapsToTheDefault() {
        ServerTlsContexts contexts = ServerTlsContexts.build(settings(ClientAuth.NONE));
        assertThat(contexts.map("a\u001b[31mred\u009b")).isSameAs(contexts.defaultContext());
        assertThat(contexts.map("nobody.test")).isSameAs(contexts.defaultContext());
        assertThat(contexts.map("alpha.test")).isNotSameAs(contexts.defaultContext());
    }

    /** What the listener's expiry gauge reads, and the warning for a certificate clients refuse now. */
    @Test
    void knowsWhenTheFirstCertificateExpiresAndWarnsOfOneOutOfDate() throws Exception {
        alpha = pki.issue(java.time.Duration.ofHours(5), "alpha", "alpha.test", "www.alpha.test"); // the first to expire
        ServerTlsContexts contexts = ServerTlsContexts.build(settings(ClientAuth.NONE));
        java.time.Instant alphaExpiry = contexts.certificateFor("alpha.test").getNotAfter().toInstant();
        assertThat(contexts.certificateFor("default.test").getNotAfter().toInstant()).isAfter(alphaExpiry);
        assertThat(contexts.earliestExpiry()).as("the second certificate's, not the first's").isEqualTo(alphaExpiry);

        java.security.cert.X509Certificate leaf = contexts.certificateFor("alpha.test");
        java.time.Instant notAfter = leaf.getNotAfter().toInstant();
        java.time.Instant notBefore = leaf.getNotBefore().toInstant();
        assertThat(ServerTlsContexts.warnIfOutOfDate(leaf, dir, notAfter.minusSeconds(1))).isFalse();
        assertThat(ServerTlsContexts.warnIfOutOfDate(leaf, dir, notAfter.plusSeconds(1))).as("expired").isTrue();
        assertThat(ServerTlsContexts.warnIfOutOfDate(leaf, dir, notBefore.minusSeconds(1))).as("not yet valid").isTrue();
    }

    /** An intermediate (here the CA, which the chain files carry) that expires before every leaf is the first expiry. */
    @Test
    void anIssuerInTheChainThatExpiresFirstIsTheEarliestExpiry() throws Exception {
        fallback = pki.issue(java.time.Duration.ofDays(30), "default", "default.test");
        alpha = pki.issue(java.time.Duration.ofDays(30), "alpha", "alpha.test", "www.alpha.test");
        wildcard = pki.issue(java.time.Duration.ofDays(30), "wild", "*.wild.test");
        ServerTlsContexts contexts = ServerTlsContexts.build(settings(ClientAuth.NONE));

        assertThat(contexts.earliestExpiry()).isEqualTo(pki.caCert().getNotAfter().toInstant())
                .isBefore(contexts.certificateFor("alpha.test").getNotAfter().toInstant());
    }

    @ParameterizedTest
    @CsvSource({
        "alpha.test, alpha",
        "WWW.Alpha.Test, alpha",
        "x.wild.test, wild",
        "a.b.wild.test, default",
        "wild.test, default",
        "unknown.test, default",
        ", default",
    })
    void sniSelectsCertificateAndFallsBackToDefault(String sni, String expected) throws Exception {
        int port = peers.startServer(ServerTlsContexts.build(settings(ClientAuth.NONE)));
        try (TlsTestPeers.Client client = peers.connect(client().build(), sni, port)) {
            TestPki.Issued want = switch (expected) {
                case "alpha" -> alpha;
                case "wild" -> wildcard;
                default -> fallback;
            };
            assertThat(client.peerCertificate()).isEqualTo(want.certificate());
            assertThat(client.echo("ping")).isEqualTo("ping");
        }
    }

    @ParameterizedTest
    @CsvSource({"h2, h2", "http/1.1, http/1.1", "h2;http/1.1, h2", "http/1.1;h2, h2"})
    void alpnNegotiatesOfferedProtocol(String offered, String expected) throws Exception {
        int port = peers.startServer(ServerTlsContexts.build(settings(ClientAuth.NONE)));
        SslContext context = client().applicationProtocolConfig(new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                offered.split(";"))).build();
        try (TlsTestPeers.Client client = peers.connect(context, "alpha.test", port)) {
            assertThat(client.ssl().applicationProtocol()).isEqualTo(expected);
        }
    }

    @Test
    void negotiatesTls13WithAeadSuite() throws Exception {
        int port = peers.startServer(ServerTlsContexts.build(settings(ClientAuth.NONE)));
        try (TlsTestPeers.Client client = peers.connect(client().build(), "alpha.test", port)) {
            assertThat(client.ssl().engine().getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
        SslContext tls12 = client().protocols("TLSv1.2").build();
        try (TlsTestPeers.Client client = peers.connect(tls12, "alpha.test", port)) {
            assertThat(client.ssl().engine().getSession().getProtocol()).isEqualTo("TLSv1.2");
            assertThat(client.ssl().engine().getSession().getCipherSuite()).startsWith("TLS_ECDHE_").contains("_GCM_");
        }
    }

    @Test
    void refusesTls11AndCbcSuites() throws Exception {
        // A BoringSSL client: the JDK client has TLS 1.1 disabled itself, which would prove nothing.
        int port = peers.startServer(ServerTlsContexts.build(settings(ClientAuth.NONE)));
        SslContext tls11 = client().sslProvider(SslProvider.OPENSSL).protocols("TLSv1.1").build();
        assertThatThrownBy(() -> peers.connect(tls11, "alpha.test", port)).isInstanceOf(javax.net.ssl.SSLException.class);
        SslContext cbc = client().sslProvider(SslProvider.OPENSSL).protocols("TLSv1.2")
                .ciphers(List.of("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")).build();
        assertThatThrownBy(() -> peers.connect(cbc, "alpha.test", port)).isInstanceOf(javax.net.ssl.SSLException.class);
        // the same client with TLS 1.2 gets through: it is the version that was refused
        SslContext tls12 = client().sslProvider(SslProvider.OPENSSL).protocols("TLSv1.2").build();
        try (TlsTestPeers.Client client = peers.connect(tls12, "alpha.test", port)) {
            assertThat(client.echo("ok")).isEqualTo("ok");
        }
    }

    @Test
    void mtlsRequireRefusesClientWithoutCertificateAndAcceptsOneWith() throws Exception {
        int port = peers.startServer(ServerTlsContexts.build(settings(ClientAuth.REQUIRE)));
        try {
            // TLS 1.3: the client may finish its side before the server checks for a certificate.
            TlsTestPeers.Client anonymous = peers.connect(client().build(), "alpha.test", port);
            anonymous.channel().closeFuture().await(5, TimeUnit.SECONDS);
            assertThat(anonymous.channel().isActive()).isFalse();
        } catch (javax.net.ssl.SSLException expected) {
            // refused during the client's handshake: fine too
        }
        SslHandshakeCompletionEvent refused = peers.serverHandshakes.poll(5, TimeUnit.SECONDS);
        assertThat(refused).isNotNull();
        assertThat(refused.isSuccess()).isFalse();

        TestPki.Issued user = pki.issue("client", "client.test");
        SslContext withCert = client().keyManager(user.keys().getPrivate(), user.certificate()).build();
        try (TlsTestPeers.Client client = peers.connect(withCert, "alpha.test", port)) {
            assertThat(client.echo("hello")).isEqualTo("hello");
        }
        assertThat(peers.serverHandshakes.poll(5, TimeUnit.SECONDS).isSuccess()).isTrue();
    }

    @Test
    void staplesOcspResponseFile() throws Exception {
        assumeTrue(OpenSsl.isOcspSupported(), "OCSP stapling needs BoringSSL");
        byte[] response = {0x30, 0x03, 0x0a, 0x01, 0x01}; // OCSPResponse { malformedRequest }: bytes are stapled as is
        Path ocsp = Files.write(dir.resolve("ocsp.der"), response);
        ServerTlsSettings settings = new ServerTlsSettings(List.of(alpha.files()), ClientAuth.NONE, Optional.empty(),
                Optional.of(ocsp));
        int port = peers.startServer(ServerTlsContexts.build(settings));
        SslContext context = client().sslProvider(SslProvider.OPENSSL).enableOcsp(true).build();
        try (TlsTestPeers.Client client = peers.connect(context, "alpha.test", port)) {
            assertThat(((ReferenceCountedOpenSslEngine) client.ssl().engine()).getOcspResponse()).isEqualTo(response);
        }
    }

    @Test
    void refusesKeyThatDoesNotMatchCertificate() {
        ServerTlsSettings mixed = ServerTlsSettings.of(alpha.files().cert(), fallback.files().key());
        assertThatThrownBy(() -> ServerTlsContexts.build(mixed))
                .isInstanceOf(TlsConfigException.class)
                .hasMessageContaining("does not belong to the certificate");
    }

    @Test
    void requireWithoutClientCaIsAConfigError() {
        assertThatThrownBy(() -> new ServerTlsSettings(List.of(alpha.files()), ClientAuth.REQUIRE, Optional.empty(),
                Optional.empty())).hasMessageContaining("client-ca");
    }

    @Test
    void aSerialIsWrittenAsOpensslWritesIt() throws Exception {
        org.assertj.core.api.Assertions.assertThat(ServerTlsContexts.serial(new java.math.BigInteger("A1B2C", 16)))
                .isEqualTo("0A1B2C");
        org.assertj.core.api.Assertions.assertThat(ServerTlsContexts.serial(new java.math.BigInteger("ff", 16)))
                .isEqualTo("FF");
    }
}
