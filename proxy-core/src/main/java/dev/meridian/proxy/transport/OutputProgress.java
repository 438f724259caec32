package dev.meridian.proxy.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;

/**
 * Tells, check after check, whether a connection's send buffer drained since the last check: the
 * bytes queued in it changed while some were queued, so the peer is reading (slowly, perhaps). Used
 * by the timers that tell a stalled peer from a slow one; one per connection, on its event loop.
 */
public final class OutputProgress {
  private long lastPendingBytes = -1;

  /** Whether bytes queued for sending changed since the last call (while some were queued). */
  public boolean progressed(Channel channel) {
    ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
    long pending = buffer == null ? 0 : buffer.totalPendingWriteBytes();
    boolean progressed = pending != lastPendingBytes && lastPendingBytes > 0;
    lastPendingBytes = pending;
    return progressed;
  }
}
