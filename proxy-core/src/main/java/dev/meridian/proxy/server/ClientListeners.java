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
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client listeners of a {@link ProxyServer}: binds each with its connection gate, its TLS
 * certificates (reloaded when their files change, OCSP responses stapled) and the client pipeline;
 * puts a reloaded configuration's listeners in force (binds the added, retunes the kept, drains the
 * removed); closes them when the server drains.
 *
 * <p>Binding, reloading and closing run on the thread that starts, reloads and stops the server, one
 * at a time.
 */
final class ClientListeners {
  private static final Logger log = LoggerFactory.getLogger(ClientListeners.class);

  private MeridianSettings settings;
  private final ProxyContext context;
  private final Transport transport;
  private final EventLoopGroup acceptGroup;
  private final EventLoopGroup workerGroup;
  private final ChannelGroup clients;
  private final ScheduledExecutorService blockingTasks;
  /** The listeners bound now, by name. */
  private final Map<String, BoundListener> listeners = new LinkedHashMap<>();

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
  synchronized InetSocketAddress bind(ListenerSettings listener) throws InterruptedException {
    BoundListener.ListenerTls tls = listener.tls().map(this::startTls).orElse(null);
    try {
      BoundListener bound = bind(listener, tls, settings);
      listeners.put(listener.name(), bound);
      bound.openMeters();
      return bound.address();
    } catch (RuntimeException | InterruptedException e) {
      if (tls != null) {
        tls.close();
      }
      throw e;
    }
  }

  private BoundListener bind(ListenerSettings listener, BoundListener.ListenerTls listenerTls,
      MeridianSettings settings) throws InterruptedException {
    CertificateReloader tls = listenerTls == null ? null : listenerTls.reloader();
    ChannelGroup connections = new DefaultChannelGroup("listener-" + listener.name(), GlobalEventExecutor.INSTANCE);
    ClientChannelInitializer initializer = new ClientChannelInitializer(context, clients, connections, tls,
        ClientChannelInitializer.proxyProtocolFrom(listener));
    ListenerGate gate = new ListenerGate(listener.name(), maxConnections(listener, settings),
        settings.limits().maxConnectionsPerClient(), context.metrics.listener(listener.name()));
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(acceptGroup, workerGroup)
        .channel(transport.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 4096)
        .option(ChannelOption.SO_REUSEADDR, true)
        .handler(gate)
        .childOption(ChannelOption.AUTO_READ, false)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(
            settings.upstream().writeBufferLow(), settings.upstream().writeBufferHigh()))
        .childHandler(initializer);
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
    BoundListener bound = new BoundListener(listener, channel, gate, initializer, connections, listenerTls);
    InetSocketAddress local = bound.address();
    if (tls != null) {
      context.certificates(local.getPort(), tls.mapping());
    }
    boolean shared = reusePort.isPresent() && Boolean.TRUE.equals(channel.config().getOption(reusePort.get()));
    log.info("listener '{}' on {}{}{}", listener.name(), local, tls == null ? "" : " (TLS: "
        + tls.current().describe() + ")", shared ? " (SO_REUSEPORT)" : "");
    if (settings.server().reusePort() && !shared) {
      log.warn("listener '{}': server.reuse-port is on but the {} transport cannot set SO_REUSEPORT here: bound"
          + " without it, so a new process cannot bind {} until this one exits", listener.name(),
          transport.configName(), local);
    }
    return bound;
  }

  /**
   * The client connections the listener holds at once: its max-connections, but no more than the
   * process's file descriptors allow (see {@link DescriptorBudget}): beyond them accepts fail with
   * EMFILE and every client, the admin port's included, waits, where a listener that stops
   * accepting at its bound keeps new clients in its backlog and the process answering.
   */
  private static int maxConnections(ListenerSettings listener, MeridianSettings settings) {
    int configured = listener.maxConnections().orElse(settings.limits().maxConnections());
    return DescriptorBudget.bound(listener.name(), configured, settings.listeners().size());
  }

  /** Builds and starts watching a listener's certificates (throws when their files do not make a working set). */
  private BoundListener.ListenerTls startTls(dev.meridian.tls.ServerTlsSettings settings) {
    CertificateReloader reloader = new CertificateReloader(settings);
    reloader.start(workerGroup.next(), CertificateReloader.DEFAULT_POLL_INTERVAL, SessionTicketKeys.DEFAULT_ROTATION);
    return new BoundListener.ListenerTls(reloader, startStapling(reloader));
  }

  /** Keeps the listener's certificates' OCSP responses fresh when they name a responder. */
  private Future<?> startStapling(CertificateReloader reloader) {
    OcspStapler stapler = new OcspStapler(reloader::current, java.time.Clock.systemUTC(), Duration.ofSeconds(5));
    long every = OcspStapler.CHECK_INTERVAL.toMillis();
    return blockingTasks.scheduleWithFixedDelay(() -> {
      try {
        stapler.refresh();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        log.warn("OCSP stapling: {}", e.toString());
      }
    }, 0, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Prepares the listeners of {@code next}: binds those added (or whose address changed) and builds the
   * certificates that changed, nothing else yet. {@link Pending#commit()} then puts them in force: a
   * listener kept (same name and address, or renamed on the same address) is retuned for the
   * connections it accepts from then on (certificates, PROXY protocol, connection limits); one removed,
   * or whose address changed, stops accepting and its connections drain. {@link Pending#abandon()}
   * closes what was bound. When a listener cannot be bound or its certificates cannot be built, what
   * was bound is closed again and the exception says which; nothing changed.
   *
   * @throws ListenerUnavailableException when an address cannot be bound
   * @throws RuntimeException             when a listener's certificates do not make a working set
   */
  synchronized Pending prepare(MeridianSettings next) throws InterruptedException {
    Pending pending = new Pending(next);
    for (ListenerSettings listener : next.listeners()) {
      BoundListener same = sameAddress(listener);
      if (same != null && !pending.kept.containsValue(same)) {
        pending.kept.put(listener.name(), same);
      } else {
        pending.added.add(listener);
      }
    }
    try {
      for (Map.Entry<String, BoundListener> kept : pending.kept.entrySet()) {
        var wanted = settingsNamed(next, kept.getKey()).tls();
        if (wanted.isPresent() && !wanted.equals(kept.getValue().settings().tls())) {
          pending.tls.put(kept.getKey(), startTls(wanted.get()));
        }
      }
      for (ListenerSettings listener : pending.added) {
        BoundListener.ListenerTls tls = listener.tls().map(this::startTls).orElse(null);
        if (tls != null) {
          pending.tls.put(listener.name(), tls);
        }
        pending.bound.put(listener.name(), bind(listener, tls, next));
      }
    } catch (RuntimeException | InterruptedException e) {
      pending.abandon();
      throw e;
    }
    return pending;
  }

  /** A reload's listeners, bound but not in force yet (they accept, into the configuration in force). */
  final class Pending {
    private final MeridianSettings next;
    private final Map<String, BoundListener> kept = new LinkedHashMap<>();
    private final List<ListenerSettings> added = new ArrayList<>();
    private final Map<String, BoundListener.ListenerTls> tls = new LinkedHashMap<>();
    private final Map<String, BoundListener> bound = new LinkedHashMap<>();

    private Pending(MeridianSettings next) {
      this.next = next;
    }

    /** Retunes the kept listeners, keeps the added ones and drains the removed ones. */
    void commit() {
      synchronized (ClientListeners.this) {
        settings = next;
        List<BoundListener> removed = new ArrayList<>(listeners.values());
        removed.removeAll(kept.values());
        for (BoundListener listener : removed) {
          context.certificates(listener.address().getPort(), null);
          listener.drain(next.server().drainTimeout());
        }
        listeners.clear();
        for (ListenerSettings listener : next.listeners()) {
          BoundListener b = kept.get(listener.name());
          if (b != null) {
            retune(b, listener, tls.getOrDefault(listener.name(), listener.tls().isPresent() ? b.tls() : null));
          } else {
            b = bound.get(listener.name());
            b.openMeters();
            if (b.tls() != null) { // again: a removed listener on the same port of another host forgot it
              context.certificates(b.address().getPort(), b.tls().reloader().mapping());
            }
          }
          listeners.put(listener.name(), b);
        }
      }
    }

    /** Closes the listeners bound and stops the certificates built: the listeners in force stay as they were. */
    void abandon() {
      synchronized (ClientListeners.this) {
        bound.values().forEach(b -> {
          context.certificates(b.address().getPort(), null);
          b.close();
        });
        tls.values().forEach(BoundListener.ListenerTls::close);
      }
    }
  }

  private void retune(BoundListener bound, ListenerSettings next, BoundListener.ListenerTls tls) {
    ListenerSettings was = bound.settings();
    bound.retune(next, tls, maxConnections(next, settings), settings.limits().maxConnectionsPerClient());
    context.certificates(bound.address().getPort(), tls == null ? null : tls.reloader().mapping());
    if (!was.equals(next)) {
      log.info("listener '{}' on {}: new connections use its new settings{}", next.name(), bound.address(),
          was.name().equals(next.name()) ? "" : " (was '" + was.name() + "')");
    }
  }

  /**
   * The listener bound now that {@code listener} keeps: the one of the same name on the same address,
   * else one on the same address with a fixed port (a rename); null when it must be bound.
   */
  private BoundListener sameAddress(ListenerSettings listener) {
    BoundListener named = listeners.get(listener.name());
    if (named != null && named.settings().address().equals(listener.address())) {
      return named;
    }
    if (listener.address().port() == 0) {
      return null;
    }
    return listeners.values().stream().filter(b -> b.settings().address().equals(listener.address()))
        .findFirst().orElse(null);
  }

  private static ListenerSettings settingsNamed(MeridianSettings settings, String name) {
    return settings.listeners().stream().filter(l -> Objects.equals(l.name(), name)).findFirst().orElseThrow();
  }

  /** The bound listeners' addresses by name, in configuration order. */
  synchronized Map<String, InetSocketAddress> addresses() {
    Map<String, InetSocketAddress> out = new LinkedHashMap<>();
    listeners.forEach((name, b) -> out.put(name, b.address()));
    return out;
  }

  /** Stops accepting on every listener. */
  synchronized void closeListeners() {
    listeners.values().forEach(BoundListener::close);
  }

  /** Stops watching the certificate files. */
  synchronized void closeCertificateReloaders() {
    listeners.values().forEach(b -> {
      if (b.tls() != null) {
        b.tls().close();
      }
    });
  }
}
