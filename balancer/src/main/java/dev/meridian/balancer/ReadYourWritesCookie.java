package dev.meridian.balancer;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Issues and checks the short signed cookie that keeps a client's reads in the writer region for a
 * while after it wrote: value {@code EXPIRY.SIGNATURE}, the expiry in epoch milliseconds and the
 * signature an HMAC-SHA256 of it, so any Meridian instance with the same secret can verify it and no
 * client can forge or extend it.
 *
 * <p>Thread-safe (a MAC per thread).
 */
public final class ReadYourWritesCookie {
  /** The cookie's name. */
  public static final String NAME = "meridian_ryw";

  private final SecretKeySpec key;
  private final ThreadLocal<Mac> macs;

  /** Creates the codec with a secret; at least 16 bytes are expected. */
  public ReadYourWritesCookie(byte[] secret) {
    if (secret.length < 16) {
      throw new IllegalArgumentException("cookie secret: " + secret.length + " bytes (expected: at least 16)");
    }
    this.key = new SecretKeySpec(secret.clone(), "HmacSHA256");
    this.macs = ThreadLocal.withInitial(this::newMac);
  }

  /** Creates the codec with a random secret (cookies then verify only in this process). */
  public static ReadYourWritesCookie withRandomSecret() {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    return new ReadYourWritesCookie(secret);
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  /** The cookie value for a window ending at {@code expiresAtMillis}. */
  public String issue(long expiresAtMillis) {
    String expiry = Long.toString(expiresAtMillis);
    return expiry + "." + sign(expiry);
  }

  /** Whether the value is a genuine cookie whose window has not ended at {@code nowMillis}. */
  public boolean isValid(String value, long nowMillis) {
    if (value == null) {
      return false;
    }
    int dot = value.indexOf('.');
    if (dot <= 0 || dot == value.length() - 1) {
      return false;
    }
    String expiry = value.substring(0, dot);
    long expiresAt;
    try {
      expiresAt = Long.parseLong(expiry);
    } catch (NumberFormatException e) {
      return false;
    }
    byte[] expected = sign(expiry).getBytes(StandardCharsets.US_ASCII);
    byte[] given = value.substring(dot + 1).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, given) && nowMillis < expiresAt;
  }

  private String sign(String text) {
    byte[] mac = macs.get().doFinal(text.getBytes(StandardCharsets.US_ASCII));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(mac);
  }
}
