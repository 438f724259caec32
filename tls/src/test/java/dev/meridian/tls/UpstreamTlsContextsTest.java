package dev.meridian.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.SslContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UpstreamTlsContextsTest {
    @TempDir
    Path dir;

    private TestPki pki;
    private TlsTestPeers peers;
    private int port;

    @BeforeEach
    void setUp() throws Exception {
        pki = new TestPki(dir, "backend-ca");
        TestPki.Issued backend = pki.issue("backend", "backend.test");
        peers = new TlsTestPeers();
        port = peers.startServer(ServerTlsContexts.build(ServerTlsSettings.of(backend.files().cert(), backend.files().key())));
    }

    @AfterEach
    void tearDown() {
        peers.close();
    }

    private UpstreamTlsSettings settings(Path trust, String serverName, boolean verifyHostname) {
        return new UpstreamTlsSettings(true, Optional.of(trust), Optional.ofNullable(serverName), verifyHostname,
                Optional.empty(), Optional.empty());
    }

    private TlsTestPeers.Client connect(UpstreamTlsSettings settings) throws Exception {
        SslContext context = UpstreamTlsContexts.client(settings, List.of("h2", "http/1.1"));
        return peers.connect(ch -> UpstreamTlsContexts.newHandler(context, settings, ch.alloc(), "127.0.0.1", port), port);
    }

    @Test
    void connectsWhenCertificateChainsToTrustedCaAndNamesTheServer() throws Exception {
        try (TlsTestPeers.Client client = connect(settings(pki.caFile(), "backend.test", true))) {
            assertThat(client.echo("upstream")).isEqualTo("upstream");
            assertThat(client.ssl().applicationProtocol()).isEqualTo("h2");
        }
    }

    @Test
    void failsClosedOnHostnameMismatch() {
        assertThatThrownBy(() -> connect(settings(pki.caFile(), "other.test", true))).isInstanceOf(SSLException.class);
        // no server name: the backend's address is checked, and the certificate does not name 127.0.0.1
        assertThatThrownBy(() -> connect(settings(pki.caFile(), null, true))).isInstanceOf(SSLException.class);
    }

    @Test
    void hostnameCheckCanBeTurnedOffButTheChainIsStillVerified() throws Exception {
        try (TlsTestPeers.Client client = connect(settings(pki.caFile(), "other.test", false))) {
            assertThat(client.echo("x")).isEqualTo("x");
        }
        TestPki stranger = new TestPki(dir, "stranger-ca");
        assertThatThrownBy(() -> connect(settings(stranger.caFile(), "backend.test", false))).isInstanceOf(SSLException.class);
    }

    @Test
    void systemTrustStoreRefusesTestCa() {
        UpstreamTlsSettings system = new UpstreamTlsSettings(true, Optional.empty(), Optional.of("backend.test"), true,
                Optional.empty(), Optional.empty());
        assertThatThrownBy(() -> connect(system)).isInstanceOf(SSLException.class);
    }

    @Test
    void presentsClientCertificateForMtls() throws Exception {
        TestPki.Issued proxy = pki.issue("proxy", "proxy.test");
        TestPki.Issued backend = pki.issue("backend2", "backend.test");
        int mtlsPort = peers.startServer(ServerTlsContexts.build(new ServerTlsSettings(List.of(backend.files()),
                io.netty.handler.ssl.ClientAuth.REQUIRE, Optional.of(pki.caFile()), Optional.empty())));
        UpstreamTlsSettings settings = new UpstreamTlsSettings(true, Optional.of(pki.caFile()), Optional.of("backend.test"),
                true, Optional.of(proxy.files().cert()), Optional.of(proxy.files().key()));
        SslContext context = UpstreamTlsContexts.client(settings);
        try (TlsTestPeers.Client client = peers.connect(
                ch -> UpstreamTlsContexts.newHandler(context, settings, ch.alloc(), "127.0.0.1", mtlsPort), mtlsPort)) {
            assertThat(client.echo("mtls")).isEqualTo("mtls");
        }
    }

    @Test
    void disabledSettingsHaveNoContext() {
        assertThatThrownBy(() -> UpstreamTlsContexts.client(UpstreamTlsSettings.DISABLED))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
