package dev.meridian.tls;

import java.io.IOException;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a fresh OCSP response stapled to every certificate of a listener that names an OCSP responder
 * (and whose chain file carries its issuer), as nginx's {@code ssl_stapling} does.
 *
 * <p>{@link #refresh()} runs periodically (see {@link #CHECK_INTERVAL}): a certificate without a
 * response, or whose response passed half its validity, is asked for again; an answer that fails
 * the checks is logged and the previous response keeps being stapled until it expires, then none is.
 * Responses are kept per certificate, so contexts rebuilt by a reload staple at once.
 *
 * <p>Not thread-safe: {@link #refresh()} runs on one thread (it blocks on the responder).
 */
public final class OcspStapler {
    /** How often {@link #refresh()} should run. */
    public static final Duration CHECK_INTERVAL = Duration.ofSeconds(30);
    /** After a failed fetch, the next attempt waits this long. */
    static final Duration RETRY_AFTER = Duration.ofMinutes(5);
    /** Refresh interval for a response that names no next update. */
    static final Duration DEFAULT_REFRESH = Duration.ofHours(1);
    private static final Logger log = LoggerFactory.getLogger(OcspStapler.class);

    private final Supplier<ServerTlsContexts> contexts;
    private final OcspClient client;
    private final Clock clock;
    private final Map<X509Certificate, State> states = new HashMap<>();

    private record State(byte[] response, Instant expires, Instant refreshAt) {}

    /** A stapler for the contexts {@code contexts} returns now (the reloader's current ones). */
    public OcspStapler(Supplier<ServerTlsContexts> contexts, Clock clock, Duration fetchTimeout) {
        this.contexts = contexts;
        this.clock = clock;
        this.client = new OcspClient(fetchTimeout);
    }

    /** Whether any certificate of the current contexts staples from a responder. */
    public boolean hasWork() {
        return !contexts.get().staplingFromResponder().isEmpty();
    }

    /** Fetches what is due and staples the freshest valid response to each context. */
    public void refresh() throws InterruptedException {
        Instant now = clock.instant();
        for (ServerSslContext context : contexts.get().staplingFromResponder()) {
            X509Certificate certificate = context.certificate();
            State state = states.get(certificate);
            if (state == null || !now.isBefore(state.refreshAt())) {
                state = fetch(certificate, context.issuer(), state, now);
                states.put(certificate, state);
            }
            boolean valid = state.response() != null && (state.expires() == null || now.isBefore(state.expires()));
            context.staple(valid ? state.response() : null);
        }
    }

    private State fetch(X509Certificate certificate, X509Certificate issuer, State previous, Instant now)
            throws InterruptedException {
        URI responder = OcspClient.responderOf(certificate).orElseThrow();
        String subject = certificate.getSubjectX500Principal().getName();
        try {
            OcspClient.Answer answer = client.fetch(certificate, issuer, responder, now);
            Instant refreshAt = answer.nextUpdate() == null ? now.plus(DEFAULT_REFRESH)
                    : answer.thisUpdate().plus(Duration.between(answer.thisUpdate(), answer.nextUpdate()).dividedBy(2));
            if (!refreshAt.isAfter(now)) {
                refreshAt = now.plus(CHECK_INTERVAL);
            }
            log.info("OCSP response for {} from {} stapled (valid until {})", subject, responder,
                    answer.nextUpdate() == null ? "unknown" : answer.nextUpdate());
            return new State(answer.response(), answer.nextUpdate(), refreshAt);
        } catch (IOException e) {
            log.warn("OCSP status of {} not refreshed from {}: {}; {}", subject, responder, e.getMessage(),
                    previous != null && previous.response() != null ? "the previous response stays stapled until it expires"
                            : "nothing is stapled");
            return new State(previous == null ? null : previous.response(), previous == null ? null : previous.expires(),
                    now.plus(RETRY_AFTER));
        }
    }
}
