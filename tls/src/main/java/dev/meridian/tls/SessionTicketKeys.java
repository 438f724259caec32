package dev.meridian.tls;

import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import java.security.SecureRandom;
import java.time.Duration;

/**
 * Session ticket keys shared by all server contexts of one listener, rotated on a schedule.
 *
 * <p>New tickets are sealed with the newest key; the previous key still opens tickets issued before
 * the last rotation, so a ticket stays usable for one to two rotation periods. Keys live only in
 * memory: a restart starts with fresh keys (clients fall back to a full handshake). Applies to the
 * OpenSSL provider only, where setting keys also turns tickets on (Netty turns them off by default);
 * with the JDK provider the JDK's own ticket handling is left as is.
 *
 * <p>Thread safety: {@link #rotate()} and {@link #applyTo} may be called from any thread.
 */
public final class SessionTicketKeys {
    /** Default rotation period: 12 hours. */
    public static final Duration DEFAULT_ROTATION = Duration.ofHours(12);

    private final SecureRandom random = new SecureRandom();
    private volatile OpenSslSessionTicketKey[] keys;

    public SessionTicketKeys() {
        OpenSslSessionTicketKey first = newKey();
        keys = new OpenSslSessionTicketKey[] {first};
    }

    /** Makes a new sealing key and keeps the previous one for opening older tickets. */
    public synchronized void rotate() {
        keys = new OpenSslSessionTicketKey[] {newKey(), keys[0]};
    }

    /** Installs the current keys on {@code context}; returns false if its provider has no ticket keys. */
    public boolean applyTo(SslContext context) {
        if (context.sessionContext() instanceof OpenSslSessionContext openSsl) {
            openSsl.setTicketKeys(keys.clone());
            return true;
        }
        return false;
    }

    /** Name of the key sealing new tickets, for logs and tests. */
    public byte[] currentKeyName() {
        return keys[0].name();
    }

    private OpenSslSessionTicketKey newKey() {
        byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
        byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
        byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
        random.nextBytes(name);
        random.nextBytes(hmac);
        random.nextBytes(aes);
        return new OpenSslSessionTicketKey(name, hmac, aes);
    }
}
