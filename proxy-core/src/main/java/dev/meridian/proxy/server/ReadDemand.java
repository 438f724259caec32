package dev.meridian.proxy.server;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * How the proxy asks an HTTP/1.1 connection for bytes: it keeps the channel reading (auto-read on)
 * and stops it only when bytes arrive that cannot be taken yet (back-pressure, pipelined requests).
 *
 * <p>Why not one {@code read()} per request with auto-read off, as Netty's proxy example does: on
 * epoll every such read arms the socket for input and every completed read disarms it again, one
 * {@code epoll_ctl} system call each way, four to six per proxied request over the client and the
 * upstream connection. Left reading, an idle keep-alive connection costs nothing, because its peer
 * sends nothing until it has its answer. Setting auto-read is an atomic exchange (a full fence on
 * x86), so a setting that would not change it is skipped: resumed once per request, it showed in
 * S1's profile (0.3% of the core). An HTTP/2 stream channel keeps one read at a time (its flow
 * control window is credited as the proxy reads).
 */
final class ReadDemand {
  private ReadDemand() {}

  /** The proxy can take the channel's bytes: keep (or start) reading. */
  static void resume(Channel channel) {
    if (channel instanceof Http2StreamChannel) {
      channel.read();
    } else if (!channel.config().isAutoRead()) {
      channel.config().setAutoRead(true);
    }
  }

  /** The proxy cannot take the channel's bytes for now: stop reading until {@link #resume}. */
  static void pause(Channel channel) {
    if (!(channel instanceof Http2StreamChannel) && channel.config().isAutoRead()) {
      channel.config().setAutoRead(false);
    }
  }

  /** Whether reading stops on its own after each read (HTTP/2 streams), so each needs a resume. */
  static boolean readsOneAtATime(Channel channel) {
    return channel instanceof Http2StreamChannel;
  }
}
