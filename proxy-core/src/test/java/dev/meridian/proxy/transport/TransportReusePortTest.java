package dev.meridian.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Transport#reusePortOption()} on each transport this kernel runs: two listeners with it bind
 * one address; without it the second is refused.
 */
class TransportReusePortTest {

  @ParameterizedTest
  @EnumSource(Transport.class)
  void twoListenersWithTheOptionShareAPortAndWithoutItTheSecondIsRefused(Transport transport) throws Exception {
    assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable(), "epoll available");
    assumeTrue(transport != Transport.IO_URING || IoUring.isAvailable(), "io_uring available");
    Optional<ChannelOption<Boolean>> option = transport.reusePortOption();
    assertThat(option).as("Linux supports SO_REUSEPORT on %s", transport.configName()).isPresent();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
    try {
      Channel first = bind(group, transport, option, new InetSocketAddress("127.0.0.1", 0));
      InetSocketAddress address = (InetSocketAddress) first.localAddress();
      Channel second = bind(group, transport, option, address);

      assertThat(second.localAddress()).isEqualTo(address);
      assertThat(second.config().getOption(option.get())).isTrue();
      assertThatThrownBy(() -> bind(group, transport, Optional.empty(), address))
          .hasMessageContaining("Address already in use");
      first.close().sync();
      second.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static Channel bind(EventLoopGroup group, Transport transport, Optional<ChannelOption<Boolean>> reusePort,
      InetSocketAddress address) throws InterruptedException {
    ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(transport.serverChannel())
        .childHandler(new ChannelInboundHandlerAdapter());
    reusePort.ifPresent(o -> bootstrap.option(o, true));
    return bootstrap.bind(address).sync().channel();
  }
}
