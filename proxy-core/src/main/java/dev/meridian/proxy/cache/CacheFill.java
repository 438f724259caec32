package dev.meridian.proxy.cache;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * An origin answer on its way into the cache: its head as it will be stored, and its body copied as
 * it streams through to the client (the client's buffers are not held). Owned by one exchange, on
 * its event loop.
 */
public final class CacheFill {
  private final String key;
  private final CachedResponse head;
  private final int maxObjectSize;
  private byte[] body;
  private int length;

  /**
   * @param key            the cache key it is stored under
   * @param head           the entry without a body (its body is ignored)
   * @param expectedLength the announced Content-Length, or -1
   * @param maxObjectSize  the largest body stored
   */
  public CacheFill(String key, CachedResponse head, long expectedLength, int maxObjectSize) {
    this.key = key;
    this.head = head;
    this.maxObjectSize = maxObjectSize;
    this.body = new byte[(int) Math.max(0, Math.min(expectedLength >= 0 ? expectedLength : 4096, maxObjectSize))];
  }

  /** The key it is stored under. */
  public String key() {
    return key;
  }

  /** Copies a part of the body; returns false when the body has grown past the largest stored. */
  public boolean append(ByteBuf content) {
    int n = content.readableBytes();
    if (n == 0) {
      return true;
    }
    if ((long) length + n > maxObjectSize) {
      body = null;
      return false;
    }
    if (length + n > body.length) {
      body = Arrays.copyOf(body, (int) Math.min(maxObjectSize, Math.max((long) length + n, body.length * 2L)));
    }
    content.getBytes(content.readerIndex(), body, length, n);
    length += n;
    return true;
  }

  /** The entry to store: the head with the body received, stored at {@code nowNanos}. */
  public CachedResponse complete(long nowNanos) {
    return new CachedResponse(head.url(), head.status(), head.reason(), head.headers(),
        CachedResponse.directCopy(body, length), nowNanos,
        head.initialAgeSeconds(), head.lifetimeSeconds(), head.originStaleIfErrorSeconds(),
        head.originStaleWhileRevalidateSeconds(), head.mayServeStale(), head.varyNames(),
        head.varyValues(), head.etag(), head.lastModified(), head.tags());
  }
}
