package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.BackendSourceSettings;
import dev.meridian.proxy.config.DiscoverySettings;
import dev.meridian.proxy.config.MeridianSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendGroupSettings;
import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the discovery sources of every backend group and says what each group's backends are now:
 * {@link #configure} starts the sources a configuration names (keeping those that did not change
 * across a reload, with their last answers, and stopping those gone; a group whose entries changed
 * keeps the backends found before until its new sources answered), {@link #effective} returns the
 * configuration with each group's discovered backends added to its written ones, and
 * {@code onChange} is told (from a source's thread) whenever a group's discovered list changed.
 *
 * <p>Thread-safe.
 */
public final class BackendDiscovery implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackendDiscovery.class);

  /** A group's running discovery and what it was started from. */
  private record Running(List<BackendSourceSettings> sources, DiscoverySettings settings, GroupDiscovery discovery) {}

  private final BackendSources factory;
  private final MeterRegistry registry;
  private final Runnable onChange;
  private final Map<String, Running> running = new HashMap<>();

  /**
   * Creates discovery with nothing running.
   *
   * @param loops           event loops DNS resolvers run on
   * @param datagramChannel their transport's UDP channel class
   * @param fileTasks       where backends files are read
   * @param registry        where {@code meridian_discovery_*} meters go
   * @param onChange        told when a group's discovered backends changed; should return at once
   */
  public BackendDiscovery(EventLoopGroup loops, Class<? extends DatagramChannel> datagramChannel,
      ScheduledExecutorService fileTasks, MeterRegistry registry, Runnable onChange) {
    this.factory = new BackendSources(loops, datagramChannel, fileTasks);
    this.registry = registry;
    this.onChange = onChange;
  }

  /**
   * Puts {@code settings}' sources in force: a group whose entries and {@code discovery} settings are
   * unchanged keeps its running sources; others are stopped and started anew.
   */
  public synchronized void configure(MeridianSettings settings) {
    Map<String, Running> next = new HashMap<>();
    for (BackendGroupSettings g : settings.backendGroups().values()) {
      if (g.sources().isEmpty()) {
        continue;
      }
      Running current = running.remove(g.name());
      if (current != null && current.sources().equals(g.sources()) && current.settings().equals(settings.discovery())) {
        next.put(g.name(), current);
        continue;
      }
      List<BackendSettings> carried = List.of();
      if (current != null) {
        carried = current.discovery().merge(List.of());
        current.discovery().close();
      }
      List<BackendSource> sources = new ArrayList<>();
      g.sources().forEach(s -> sources.add(factory.create(s, settings.discovery())));
      GroupDiscovery discovery = new GroupDiscovery(g.name(), sources, carried, g.backends(), registry, onChange);
      next.put(g.name(), new Running(g.sources(), settings.discovery(), discovery));
      log.info("group '{}': discovering backends from {}", g.name(),
          sources.stream().map(BackendSource::describe).toList());
      discovery.start();
    }
    running.values().forEach(r -> r.discovery().close());
    running.clear();
    running.putAll(next);
  }

  /**
   * Waits until every running source reported once (found or failed), at most {@code timeout} in all.
   *
   * @return whether all did
   */
  public boolean awaitFirstAnswers(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<GroupDiscovery> groups;
    synchronized (this) {
      groups = running.values().stream().map(Running::discovery).toList();
    }
    for (GroupDiscovery g : groups) {
      if (!g.awaitFirstReports(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
        return false;
      }
    }
    return true;
  }

  /** {@code settings} with each discovering group's backends: its written ones, then those found. */
  public synchronized MeridianSettings effective(MeridianSettings settings) {
    if (running.isEmpty()) {
      return settings;
    }
    Map<String, BackendGroupSettings> groups = new LinkedHashMap<>();
    settings.backendGroups().forEach((name, g) -> {
      Running r = running.get(name);
      groups.put(name, r == null ? g : g.withBackends(r.discovery().merge(g.backends())));
    });
    return settings.withBackendGroups(groups);
  }

  /** Stops every source. */
  @Override
  public synchronized void close() {
    running.values().forEach(r -> r.discovery().close());
    running.clear();
  }
}
