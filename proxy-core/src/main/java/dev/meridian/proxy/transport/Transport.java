package dev.meridian.proxy.transport;

import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.unix.UnixChannelOption;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.Locale;
import java.util.Optional;

/**
 * The I/O transport Meridian's event loops run on: epoll on Linux, else io_uring where the kernel
 * allows it, else Java NIO ({@code meridian.server.transport = auto}); or one named explicitly.
 */
public enum Transport {
  IO_URING("io_uring"),
  EPOLL("epoll"),
  NIO("nio");

  private final String configName;

  Transport(String configName) {
    this.configName = configName;
  }

  /** The name used in the configuration and logs. */
  public String configName() {
    return configName;
  }

  /**
   * Chooses the transport for a configured value.
   *
   * @param configured {@code auto}, {@code io_uring}, {@code epoll} or {@code nio}
   * @throws IllegalStateException when the named transport cannot run here, with the reason
   */
  public static Transport choose(String configured) {
    String name = configured.toLowerCase(Locale.ROOT);
    switch (name) {
      case "auto":
        // epoll first. io_uring (measured 2026-12-05, bench/results/suite-20261205-173500) did 11%
        // more small keep-alive requests (S1) but 32% fewer 1 MiB GETs (S3) and 21% fewer 1 MiB
        // POSTs (S8); with a ring of 64 KiB receive buffers S3 came out 20% ahead and S8 still 15-20%
        // behind. Memory per idle connection measured the same (S7-h1).
        if (Epoll.isAvailable()) {
          return EPOLL;
        }
        return IoUring.isAvailable() ? IO_URING : NIO;
      case "io_uring":
        requireAvailable(IO_URING, IoUring.isAvailable(), IoUring.unavailabilityCause());
        return IO_URING;
      case "epoll":
        requireAvailable(EPOLL, Epoll.isAvailable(), Epoll.unavailabilityCause());
        return EPOLL;
      case "nio":
        return NIO;
      default:
        throw new IllegalStateException(
            "transport: '" + configured + "' (expected: auto, io_uring, epoll or nio)");
    }
  }

  /** Why the preferred transports are not in use, for the start-up log line; empty when epoll or io_uring is. */
  public String whyNotBetter() {
    if (this != NIO) {
      return "";
    }
    return "epoll unavailable: " + Epoll.unavailabilityCause() + "; io_uring unavailable: "
        + IoUring.unavailabilityCause();
  }

  private static void requireAvailable(Transport t, boolean available, Throwable cause) {
    if (!available) {
      throw new IllegalStateException("transport " + t.configName + " is not available here: " + cause
          + " (expected: auto, or a transport this kernel supports)", cause);
    }
  }

  /** The factory for event loop I/O handlers of this transport. */
  public IoHandlerFactory ioHandlerFactory() {
    switch (this) {
      case IO_URING:
        return IoUringIoHandler.newFactory();
      case EPOLL:
        return HalfCloseSafeEpoll.wrap(EpollIoHandler.newFactory());
      default:
        return NioIoHandler.newFactory();
    }
  }

  /** The server socket channel class of this transport. */
  public Class<? extends ServerChannel> serverChannel() {
    switch (this) {
      case IO_URING:
        return IoUringServerSocketChannel.class;
      case EPOLL:
        return EpollServerSocketChannel.class;
      default:
        return NioServerSocketChannel.class;
    }
  }

  /** The client socket channel class of this transport. */
  public Class<? extends SocketChannel> socketChannel() {
    switch (this) {
      case IO_URING:
        return IoUringSocketChannel.class;
      case EPOLL:
        return EpollSocketChannel.class;
      default:
        return NioSocketChannel.class;
    }
  }

  /** The UDP channel class of this transport (DNS discovery). */
  public Class<? extends DatagramChannel> datagramChannel() {
    switch (this) {
      case IO_URING:
        return IoUringDatagramChannel.class;
      case EPOLL:
        return EpollDatagramChannel.class;
      default:
        return NioDatagramChannel.class;
    }
  }

  /**
   * The server channel option that sets SO_REUSEPORT on this transport: the native one on epoll and
   * io_uring, the JDK's on nio where the JDK supports it here; empty when neither can.
   */
  public Optional<ChannelOption<Boolean>> reusePortOption() {
    if (this != NIO) {
      return Optional.of(UnixChannelOption.SO_REUSEPORT);
    }
    try (ServerSocketChannel probe = ServerSocketChannel.open()) {
      return probe.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)
          ? Optional.of(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
