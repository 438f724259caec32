package dev.meridian.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.Req;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCSP stapling from the responder a certificate names (AIA): fetched, checked and stapled; refreshed
 * at half its validity on an injected clock; a bad answer keeps the old response until it expires;
 * and {@code openssl s_client -status} sees the stapled "good" status.
 */
class OcspStaplerTest {
    private static final Duration VALIDITY = Duration.ofHours(4);

    @TempDir
    Path dir;
    private HttpServer responder;
    private final AtomicInteger asked = new AtomicInteger();
    private final AtomicReference<CertificateStatus> status = new AtomicReference<>(CertificateStatus.GOOD);
    private final MutableClock clock = new MutableClock(Instant.now());
    private TestPki pki;
    private ServerTlsContexts contexts;
    private OcspStapler stapler;

    @BeforeEach
    void start() throws Exception {
        responder = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        responder.createContext("/ocsp", exchange -> {
            asked.incrementAndGet();
            byte[] answer;
            try {
                answer = answer(new OCSPReq(exchange.getRequestBody().readAllBytes()));
            } catch (Exception e) {
                answer = new byte[0];
            }
            exchange.getResponseHeaders().set("Content-Type", "application/ocsp-response");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        responder.start();
        pki = new TestPki(dir, "ocsp-ca");
        String url = "http://127.0.0.1:" + responder.getAddress().getPort() + "/ocsp";
        TestPki.Issued leaf = pki.issueWithOcspResponder("site", "stapled.test", url);
        contexts = ServerTlsContexts.build(ServerTlsSettings.of(leaf.files().cert(), leaf.files().key()));
        stapler = new OcspStapler(() -> contexts, clock, Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() {
        responder.stop(0);
    }

    /** The responder: signs {@link #status} for every certificate asked about, valid {@link #VALIDITY} from the clock's now. */
    private byte[] answer(OCSPReq request) throws Exception {
        X509CertificateHolder ca = new JcaX509CertificateHolder(pki.caCert());
        BasicOCSPRespBuilder builder = new BasicOCSPRespBuilder(new RespID(ca.getSubject()));
        Date now = Date.from(clock.instant());
        for (Req req : request.getRequestList()) {
            builder.addResponse(req.getCertID(), status.get(), now, Date.from(clock.instant().plus(VALIDITY)));
        }
        var basic = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pki.caKeys().getPrivate()),
                new X509CertificateHolder[] {ca}, now);
        return new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
    }

    private ServerSslContext context() {
        return (ServerSslContext) contexts.defaultContext();
    }

    @Test
    void aGoodResponseIsStapledAndRefreshedAtHalfItsValidity() throws Exception {
        assumeTrue(io.netty.handler.ssl.OpenSsl.isOcspSupported(), "BoringSSL staples");
        assertThat(stapler.hasWork()).isTrue();
        stapler.refresh();
        assertThat(asked.get()).isEqualTo(1);
        byte[] first = context().stapled();
        assertThat(first).isNotNull();
        assertThat(new OCSPResp(first).getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);

        clock.advance(VALIDITY.dividedBy(2).minusMinutes(1));
        stapler.refresh();
        assertThat(asked.get()).as("not due yet").isEqualTo(1);

        clock.advance(Duration.ofMinutes(2));
        stapler.refresh();
        assertThat(asked.get()).isEqualTo(2);
        assertThat(context().stapled()).isNotNull().isNotEqualTo(first);
    }

    @Test
    void aRevokedAnswerKeepsTheOldResponseUntilItExpiresThenNothingIsStapled() throws Exception {
        assumeTrue(io.netty.handler.ssl.OpenSsl.isOcspSupported(), "BoringSSL staples");
        stapler.refresh();
        byte[] good = context().stapled();
        assertThat(good).isNotNull();

        status.set(new RevokedStatus(new Date(), 1));
        clock.advance(VALIDITY.dividedBy(2).plusMinutes(1));
        stapler.refresh();
        assertThat(asked.get()).isEqualTo(2);
        assertThat(context().stapled()).as("still valid, kept").isEqualTo(good);

        clock.advance(VALIDITY);
        stapler.refresh();
        assertThat(context().stapled()).as("expired, dropped").isNull();
    }

    @Test
    void opensslSeesTheStapledGoodStatus() throws Exception {
        assumeTrue(io.netty.handler.ssl.OpenSsl.isOcspSupported(), "BoringSSL staples");
        assumeTrue(installed(), "openssl is part of the base system");
        stapler.refresh();
        try (TlsTestPeers peers = new TlsTestPeers()) {
            int port = peers.startServer(contexts);
            Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                    "-servername", "stapled.test", "-status").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(out).contains("OCSP Response Status: successful").contains("Cert Status: good");
        }
    }

    private static boolean installed() {
        try {
            return new ProcessBuilder("openssl", "version").start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** A clock the test moves. */
    private static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
