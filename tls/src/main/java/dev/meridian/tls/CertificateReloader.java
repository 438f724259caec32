package dev.meridian.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.util.Mapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a listener's {@link ServerTlsContexts} in step with its files, and rotates its session ticket keys.
 *
 * <p>Every poll (default: every 5 seconds) compares each certificate, key, client CA and OCSP response
 * file's modification time and size with the last poll. On a change it builds new contexts from all the
 * files and swaps them in at once: handshakes that start afterwards get the new certificates, open
 * connections keep the engine they have. A replacement that does not build (unreadable PEM, a key that
 * does not match its certificate, a missing file) is refused with one WARN line and the previous
 * contexts keep serving; it is tried again when a file changes again. Rotating ticket keys (default:
 * every 12 hours) installs them on the current contexts; rebuilt contexts get the same keys, so reloads
 * do not break resumption.
 *
 * <p>Use {@link #mapping()} as the {@code SniHandler}'s mapping; it always reads the current contexts.
 * Thread safety: all methods may be called from any thread; polls are serialised.
 */
public final class CertificateReloader implements AutoCloseable {
    /** Default poll interval: 5 seconds. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(CertificateReloader.class);

    private final ServerTlsSettings settings;
    /** Replaced (not rotated) when the client CAs change: tickets sealed before must not resume. */
    private volatile SessionTicketKeys ticketKeys = new SessionTicketKeys();
    private final List<Consumer<ServerTlsContexts>> listeners = new CopyOnWriteArrayList<>();
    private final List<ScheduledFuture<?>> tasks = new CopyOnWriteArrayList<>();
    private final AtomicLong reloads = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final Mapping<String, SslContext> mapping = hostName -> current().map(hostName);
    private volatile ServerTlsContexts current;
    private Map<Path, String> stamps;
    /**
     * The client CA file's stamp when contexts were last built from it: a change refused with a broken
     * certificate file still counts as a change at the next build that succeeds.
     */
    private String appliedClientCa;

    /**
     * Builds the first contexts from {@code settings}; nothing is watched until {@link #start} (or
     * {@link #checkNow()} is called by hand).
     *
     * @throws TlsConfigException when the files do not make a working configuration
     */
    public CertificateReloader(ServerTlsSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.stamps = stamps();
        this.current = ServerTlsContexts.build(settings, ticketKeys);
        this.appliedClientCa = settings.clientCa().map(stamps::get).orElse(null);
    }

    /**
     * Polls the files every {@code pollInterval} and rotates ticket keys every {@code ticketRotation} on
     * {@code executor} (a Netty {@code EventLoop} will do) until {@link #close()}.
     */
    public CertificateReloader start(ScheduledExecutorService executor, Duration pollInterval, Duration ticketRotation) {
        checkPositive(pollInterval, "pollInterval");
        checkPositive(ticketRotation, "ticketRotation");
        tasks.add(executor.scheduleWithFixedDelay(this::checkQuietly,
                pollInterval.toMillis(), pollInterval.toMillis(), TimeUnit.MILLISECONDS));
        tasks.add(executor.scheduleAtFixedRate(this::rotateTicketKeys,
                ticketRotation.toMillis(), ticketRotation.toMillis(), TimeUnit.MILLISECONDS));
        return this;
    }

    /** The contexts serving new handshakes now. */
    public ServerTlsContexts current() {
        return current;
    }

    /** A mapping for {@code new SniHandler(reloader.mapping())} that always reads {@link #current()}. */
    public Mapping<String, SslContext> mapping() {
        return mapping;
    }

    /** Calls {@code listener} with the new contexts after each successful reload. */
    public void onReload(Consumer<ServerTlsContexts> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Successful reloads so far. */
    public long reloads() {
        return reloads.get();
    }

    /** Refused replacements so far. */
    public long rejectedReloads() {
        return rejected.get();
    }

    /**
     * Polls the files once; rebuilds and swaps when one changed.
     *
     * @return true when new contexts were swapped in
     */
    public synchronized boolean checkNow() {
        Map<Path, String> now = stamps();
        if (now.equals(stamps)) {
            return false;
        }
        // A session made under the client CAs before (a client certificate verified by a CA since
        // removed) must not resume: new contexts have session caches of their own, and new ticket keys
        // leave the old tickets unreadable. A certificate's rotation alone keeps the keys, so its
        // clients resume across it.
        boolean clientTrustChanged = settings.clientCa().isPresent()
                && !Objects.equals(appliedClientCa, now.get(settings.clientCa().get()));
        stamps = now;
        SessionTicketKeys keys = clientTrustChanged ? new SessionTicketKeys() : ticketKeys;
        ServerTlsContexts next;
        try {
            next = ServerTlsContexts.build(settings, keys);
        } catch (RuntimeException e) {
            rejected.incrementAndGet();
            log.warn("TLS certificate reload refused, still serving the previous certificates: {}."
                    + " Fix or replace the file; it is retried when a file changes again.", e.getMessage());
            return false;
        }
        current = next;
        ticketKeys = keys;
        appliedClientCa = settings.clientCa().map(now::get).orElse(null);
        reloads.incrementAndGet();
        log.info("TLS certificates reloaded: {}{}", next.describe(),
                clientTrustChanged ? "; client CAs changed: sessions from before them are not resumed" : "");
        for (Consumer<ServerTlsContexts> listener : listeners) {
            listener.accept(next);
        }
        return true;
    }

    /** The name of the key sealing new session tickets now. */
    byte[] ticketKeyName() {
        return ticketKeys.currentKeyName();
    }

    /** Seals new session tickets with a fresh key; tickets from before stay valid until the next rotation. */
    public synchronized void rotateTicketKeys() {
        ticketKeys.rotate();
        boolean applied = false;
        for (SslContext context : current.contexts()) {
            applied |= ticketKeys.applyTo(context);
        }
        if (applied) {
            log.debug("TLS session ticket keys rotated");
        }
    }

    /** Stops polling and rotating; the current contexts keep serving. */
    @Override
    public void close() {
        for (ScheduledFuture<?> task : tasks) {
            task.cancel(false);
        }
        tasks.clear();
    }

    private void checkQuietly() {
        try {
            checkNow();
        } catch (RuntimeException e) {
            log.warn("TLS certificate check failed", e); // never let the scheduled task die
        }
    }

    private Map<Path, String> stamps() {
        List<Path> files = new ArrayList<>();
        for (CertificatePair pair : settings.certificates()) {
            files.add(pair.cert());
            files.add(pair.key());
        }
        settings.clientCa().ifPresent(files::add);
        settings.ocspResponse().ifPresent(files::add);
        Map<Path, String> result = new LinkedHashMap<>();
        for (Path file : files) {
            result.put(file, stamp(file));
        }
        return result;
    }

    private static String stamp(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return attributes.lastModifiedTime().toInstant() + "/" + attributes.size();
        } catch (NoSuchFileException e) {
            return "missing";
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    private static void checkPositive(Duration duration, String name) {
        if (duration.isZero() || duration.isNegative()) {
            throw new IllegalArgumentException(name + ": " + duration + " (expected: > 0)");
        }
    }
}
