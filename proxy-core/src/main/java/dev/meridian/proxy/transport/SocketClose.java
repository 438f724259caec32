package dev.meridian.proxy.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;

/**
 * Closes a connection at its socket, past the close of every handler in its pipeline: an HTTP/2
 * codec's close sends GOAWAY and waits for the open streams, a TLS handler's writes close_notify
 * and waits for it to leave, and a peer that reads nothing holds both for as long as they wait. For
 * when the connection has had its orderly close (or cannot have one) and must go now.
 */
public final class SocketClose {
  private SocketClose() {}

  /**
   * Closes the channel from its pipeline's first handler, so that only the transport acts; any
   * thread.
   */
  public static ChannelFuture now(Channel channel) {
    ChannelHandlerContext first = channel.pipeline().firstContext();
    return first != null ? first.close() : channel.close();
  }
}
