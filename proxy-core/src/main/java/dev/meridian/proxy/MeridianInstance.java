package dev.meridian.proxy;

import dev.meridian.balancer.NanoClock;
import dev.meridian.health.HealthRegistry;
import dev.meridian.proxy.admin.AdminServer;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.server.ProxyServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * One running Meridian: the proxy server with its listeners and, when enabled, the admin listener,
 * started and stopped together.
 */
public final class MeridianInstance implements AutoCloseable {
  private final MeridianSettings settings;
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final dev.meridian.proxy.metrics.ProcessMeters processMeters;
  private final ProxyServer proxy;
  private AdminServer admin;
  private ConfigReloader reloader;
  private List<InetSocketAddress> listenerAddresses = List.of();
  private InetSocketAddress adminAddress;
  private boolean stopped;

  /** Builds (but does not start) an instance from validated settings. */
  public MeridianInstance(MeridianSettings settings) {
    this(settings, NanoClock.SYSTEM);
  }

  /**
   * Builds an instance whose balancing and health decisions (EWMA decay, ejection times, retry
   * budgets, operator time limits) read the given clock: tests drive time by hand with it.
   */
  public MeridianInstance(MeridianSettings settings, NanoClock clock) {
    this(settings, clock, java.time.Clock.systemUTC());
  }

  /**
   * Builds an instance on the given monotonic clock and the wall clock that dates sticky-session
   * cookies: tests drive both by hand.
   */
  public MeridianInstance(MeridianSettings settings, NanoClock clock, java.time.Clock wallClock) {
    this.settings = settings;
    if (!settings.admin().metrics()) {
      // Every meter registered from here on is a no-op: recording one costs a call that does nothing.
      registry.config().meterFilter(io.micrometer.core.instrument.config.MeterFilter.deny());
    }
    this.processMeters = new dev.meridian.proxy.metrics.ProcessMeters(registry);
    this.proxy = new ProxyServer(settings, registry, clock, wallClock);
  }

  /** Binds the listeners and the admin listener; on failure everything started is stopped again. */
  public MeridianInstance start() throws InterruptedException {
    try {
      listenerAddresses = proxy.start();
      if (settings.admin().enabled()) {
        admin = new AdminServer(proxy, registry, settings.admin().token());
        if (reloader != null) {
          admin.reloadWith(reloader::reload);
        }
        adminAddress = admin.start(settings.admin().address().host(), settings.admin().address().port());
      }
      return this;
    } catch (RuntimeException | InterruptedException e) {
      stop(Duration.ZERO);
      throw e;
    }
  }

  /** Makes {@code POST /admin/api/reload} reload the configuration file through this reloader. */
  public synchronized void reloadFrom(ConfigReloader reloader) {
    this.reloader = reloader;
    if (admin != null) {
      admin.reloadWith(reloader::reload);
    }
  }

  /** The bound listener addresses at start, in configuration order. */
  public List<InetSocketAddress> listenerAddresses() {
    return listenerAddresses;
  }

  /** The bound listener addresses in force now (after reloads) by listener name, in configuration order. */
  public java.util.Map<String, InetSocketAddress> listenersByName() {
    return proxy.listenerAddresses();
  }

  /** The bound admin address, or null when the admin listener is disabled. */
  public InetSocketAddress adminAddress() {
    return adminAddress;
  }

  /** The health marks of one backend group's backends, which its selectors read. */
  public HealthRegistry health(String group) {
    return proxy.health(group);
  }

  /** The proxy server. */
  public ProxyServer proxy() {
    return proxy;
  }

  /**
   * Drains and stops: stops accepting, lets requests in flight finish for up to the drain timeout,
   * then closes everything. Idempotent.
   *
   * @return whether every request in flight finished in time
   */
  public synchronized boolean stop(Duration drainTimeout) {
    if (stopped) {
      return true;
    }
    stopped = true;
    boolean drained = proxy.shutdown(drainTimeout);
    if (admin != null) {
      admin.close();
    }
    processMeters.close();
    registry.close();
    return drained;
  }

  @Override
  public void close() {
    stop(proxy.settings().server().drainTimeout());
  }
}
