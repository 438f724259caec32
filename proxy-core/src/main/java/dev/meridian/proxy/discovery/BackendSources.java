package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.BackendSourceSettings;
import dev.meridian.proxy.config.DiscoverySettings;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Makes the {@link BackendSource} a configuration entry asks for: DNS and SRV sources each get their
 * own resolver on one of {@code loops}; file sources are checked on {@code fileTasks}, and so are the
 * watches of Kubernetes sources (whose informers run on the client's own threads).
 *
 * @param loops           the event loops DNS resolvers run on
 * @param datagramChannel the UDP channel class of those loops' transport
 * @param fileTasks       where backends files are read and Kubernetes watches checked (off the event loops)
 */
record BackendSources(EventLoopGroup loops, Class<? extends DatagramChannel> datagramChannel,
    ScheduledExecutorService fileTasks) {

  /** A source for {@code entry}, not started. */
  BackendSource create(BackendSourceSettings entry, DiscoverySettings settings) {
    if (entry instanceof BackendSourceSettings.Dns dns) {
      return new DnsBackendSource(dns, new DnsLookup(loops.next(), datagramChannel, settings), settings);
    }
    if (entry instanceof BackendSourceSettings.Srv srv) {
      return new SrvBackendSource(srv, new DnsLookup(loops.next(), datagramChannel, settings), settings);
    }
    if (entry instanceof BackendSourceSettings.File file) {
      return new FileBackendSource(file, fileTasks, settings.fileInterval());
    }
    if (entry instanceof BackendSourceSettings.Kubernetes kubernetes) {
      return new KubernetesBackendSource(kubernetes, settings.kubernetes(), fileTasks);
    }
    throw new IllegalArgumentException("no source for " + entry.where());
  }
}
