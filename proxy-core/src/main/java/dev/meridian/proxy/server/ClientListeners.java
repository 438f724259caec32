package dev.meridian.proxy.server;

import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.MeridianSettings.ListenerSettings;
import dev.meridian.proxy.transport.Transport;
import dev.meridian.tls.CertificateReloader;
import dev.meridian.tls.OcspStapler;
import dev.meridian.tls.SessionTicketKeys;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client listeners of a {@link ProxyServer}: binds each with its connection gate, its TLS
 * certificates (reloaded when their files change, OCSP responses stapled) and the client pipeline, and
 * closes them when the server drains.
 *
 * <p>Binding and closing run on the thread that starts and stops the server.
 */
final class ClientListeners {
  private static final Logger log = LoggerFactory.getLogger(ClientListeners.class);

  private final MeridianSettings settings;
  private final ProxyContext context;
  private final Transport transport;
  private final EventLoopGroup acceptGroup;
  private final EventLoopGroup workerGroup;
  private final ChannelGroup clients;
  private final ScheduledExecutorService blockingTasks;
  private final List<Channel> listeners = new ArrayList<>();
  private final List<CertificateReloader> reloaders = new ArrayList<>();

  /**
   * Creates the listeners of a server.
   *
   * @param clients       where every accepted client connection is kept (for the drain)
   * @param blockingTasks where OCSP responses are fetched, off the event loops
   */
  ClientListeners(MeridianSettings settings, ProxyContext context, Transport transport, EventLoopGroup acceptGroup,
      EventLoopGroup workerGroup, ChannelGroup clients, ScheduledExecutorService blockingTasks) {
    this.settings = settings;
    this.context = context;
    this.transport = transport;
    this.acceptGroup = acceptGroup;
    this.workerGroup = workerGroup;
    this.clients = clients;
    this.blockingTasks = blockingTasks;
  }

  /** Binds one listener; returns its bound address (port 0 resolved). */
  InetSocketAddress bind(ListenerSettings listener) throws InterruptedException {
    CertificateReloader tls = listener.tls().map(t -> {
      CertificateReloader reloader = new CertificateReloader(t);
      reloader.start(workerGroup.next(), CertificateReloader.DEFAULT_POLL_INTERVAL,
          SessionTicketKeys.DEFAULT_ROTATION);
      reloaders.add(reloader);
      startStapling(reloader);
      return reloader;
    }).orElse(null);
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(acceptGroup, workerGroup)
        .channel(transport.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 4096)
        .option(ChannelOption.SO_REUSEADDR, true)
        .handler(new ListenerGate(listener.name(), listener.maxConnections().orElse(settings.limits().maxConnections()),
            settings.limits().maxConnectionsPerClient(), context.metrics.listener(listener.name())))
        .childOption(ChannelOption.AUTO_READ, false)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(
            settings.upstream().writeBufferLow(), settings.upstream().writeBufferHigh()))
        .childHandler(new ClientChannelInitializer(context, clients, tls, listener.proxyProtocolFrom().isEmpty()
            ? null : dev.meridian.balancer.geo.TrustedProxies.of(listener.proxyProtocolFrom())));
    Optional<ChannelOption<Boolean>> reusePort = settings.server().reusePort()
        ? transport.reusePortOption() : Optional.empty();
    reusePort.ifPresent(option -> bootstrap.option(option, true));
    InetSocketAddress address = new InetSocketAddress(listener.address().host(), listener.address().port());
    Channel channel;
    try {
      channel = bootstrap.bind(address).sync().channel();
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new ListenerUnavailableException("listener '" + listener.name() + "'", address, e);
    }
    listeners.add(channel);
    InetSocketAddress local = (InetSocketAddress) channel.localAddress();
    if (tls != null) {
      context.certificates(local.getPort(), tls.mapping());
    }
    boolean shared = reusePort.isPresent() && Boolean.TRUE.equals(channel.config().getOption(reusePort.get()));
    log.info("listener '{}' on {}{}{}", listener.name(), local, tls == null ? "" : " (TLS: "
        + tls.current().hostNames() + ")", shared ? " (SO_REUSEPORT)" : "");
    if (settings.server().reusePort() && !shared) {
      log.warn("listener '{}': server.reuse-port is on but the {} transport cannot set SO_REUSEPORT here: bound"
          + " without it, so a new process cannot bind {} until this one exits", listener.name(),
          transport.configName(), local);
    }
    return local;
  }

  /** Keeps the listener's certificates' OCSP responses fresh when they name a responder. */
  private void startStapling(CertificateReloader reloader) {
    OcspStapler stapler = new OcspStapler(reloader::current, java.time.Clock.systemUTC(), Duration.ofSeconds(5));
    long every = OcspStapler.CHECK_INTERVAL.toMillis();
    blockingTasks.scheduleWithFixedDelay(() -> {
      try {
        stapler.refresh();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        log.warn("OCSP stapling: {}", e.toString());
      }
    }, 0, every, TimeUnit.MILLISECONDS);
  }

  /** Stops accepting on every listener. */
  void closeListeners() {
    for (Channel listener : listeners) {
      listener.close().awaitUninterruptibly();
    }
  }

  /** Stops watching the certificate files. */
  void closeCertificateReloaders() {
    reloaders.forEach(CertificateReloader::close);
  }
}
