package dev.meridian.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateReloaderTest {
    @TempDir
    Path dir;

    private TestPki pki;
    private TestPki.Issued first;
    private TlsTestPeers peers;
    private CertificateReloader reloader;
    private SslContext client;
    private int port;

    @BeforeEach
    void setUp() throws Exception {
        pki = new TestPki(dir, "test-ca");
        first = pki.issue("site", "site.test");
        reloader = new CertificateReloader(ServerTlsSettings.of(first.files().cert(), first.files().key()));
        peers = new TlsTestPeers();
        port = peers.startServer(reloader.mapping());
        client = SslContextBuilder.forClient().trustManager(pki.caFile().toFile())
                .endpointIdentificationAlgorithm(null).build();
    }

    @AfterEach
    void tearDown() {
        reloader.close();
        peers.close();
    }

    @Test
    void newConnectionsSeeReplacedCertificateAndOpenOnesKeepWorking() throws Exception {
        AtomicInteger notified = new AtomicInteger();
        reloader.onReload(contexts -> notified.incrementAndGet());
        try (TlsTestPeers.Client open = peers.connect(client, "site.test", port)) {
            assertThat(open.peerCertificate()).isEqualTo(first.certificate());
            assertThat(reloader.checkNow()).as("nothing changed yet").isFalse();

            TestPki.Issued second = pki.issue("site", "site.test");
            assertThat(reloader.checkNow()).isTrue();
            assertThat(reloader.reloads()).isEqualTo(1);
            assertThat(notified).hasValue(1);

            try (TlsTestPeers.Client fresh = peers.connect(client, "site.test", port)) {
                assertThat(fresh.peerCertificate()).isEqualTo(second.certificate());
            }
            assertThat(reloader.current().describe()).as("what the reload line says")
                    .isEqualTo("[site.test] serial " + ServerTlsContexts.serial(second.certificate().getSerialNumber())
                            + " until " + second.certificate().getNotAfter().toInstant())
                    .doesNotContain(first.certificate().getSerialNumber().toString(16).toUpperCase());
            assertThat(open.echo("still here")).isEqualTo("still here");
        }
    }

    @Test
    void corruptReplacementIsRefusedAndOldCertificateKeepsServing() throws Exception {
        Files.writeString(first.files().cert(), "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        pki.touch(first.files().cert());
        assertThat(reloader.checkNow()).isFalse();
        assertThat(reloader.rejectedReloads()).isEqualTo(1);
        try (TlsTestPeers.Client fresh = peers.connect(client, "site.test", port)) {
            assertThat(fresh.peerCertificate()).isEqualTo(first.certificate());
        }
        assertThat(reloader.checkNow()).as("a refused file is not retried until it changes").isFalse();
        assertThat(reloader.rejectedReloads()).isEqualTo(1);
    }

    @Test
    void certificateWithoutItsNewKeyIsRefusedUntilTheKeyArrives() throws Exception {
        Path staged = dir.resolve("staged");
        Files.createDirectories(staged);
        TestPki.Issued next = new TestPki(staged, "other-ca").issue("site", "site.test");
        Files.copy(next.files().cert(), first.files().cert(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        pki.touch(first.files().cert());
        assertThat(reloader.checkNow()).as("cert replaced, key not yet").isFalse();
        assertThat(reloader.rejectedReloads()).isEqualTo(1);

        Files.copy(next.files().key(), first.files().key(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        pki.touch(first.files().key());
        assertThat(reloader.checkNow()).isTrue();
        assertThat(reloader.current().certificateFor("site.test")).isEqualTo(next.certificate());
    }

    @Test
    void pollsOnTheGivenExecutor() throws Exception {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            reloader.start(executor, Duration.ofMillis(20), Duration.ofHours(1));
            TestPki.Issued second = pki.issue("site", "site.test");
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(reloader.current().certificateFor("site.test")).isEqualTo(second.certificate()));
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void ticketKeyRotationKeepsServing() throws Exception {
        reloader.rotateTicketKeys();
        try (TlsTestPeers.Client fresh = peers.connect(client, "site.test", port)) {
            assertThat(fresh.echo("after rotation")).isEqualTo("after rotation");
        }
    }

    /**
     * Replacing the client CA file replaces the ticket keys, so a client whose certificate a removed CA
     * verified cannot resume its session (for the ticket lifetime); a certificate's rotation keeps them.
     */
    @Test
    void aChangeOfClientCasStopsOldSessionsResumingWhileACertificateRotationKeepsThem() throws Exception {
        Path clientCa = dir.resolve("client-ca.pem");
        Files.copy(pki.caFile(), clientCa);
        try (CertificateReloader mtls = new CertificateReloader(new ServerTlsSettings(
                java.util.List.of(new CertificatePair(first.files().cert(), first.files().key())), io.netty.handler.ssl.ClientAuth.OPTIONAL,
                java.util.Optional.of(clientCa), java.util.Optional.empty()))) {
            byte[] before = mtls.ticketKeyName();
            pki.issue("site", "site.test");
            assertThat(mtls.checkNow()).isTrue();
            assertThat(mtls.ticketKeyName()).as("a certificate's rotation: sessions resume").isEqualTo(before);

            Files.copy(new TestPki(Files.createDirectories(dir.resolve("other")), "other-ca").caFile(), clientCa,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            pki.touch(clientCa);
            assertThat(mtls.checkNow()).isTrue();
            assertThat(mtls.ticketKeyName()).as("new client CAs: old tickets unreadable").isNotEqualTo(before);
        }
    }
}
