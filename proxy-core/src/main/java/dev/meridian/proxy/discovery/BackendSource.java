package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import java.util.List;

/**
 * Finds a backend group's backends somewhere other than the configuration file (DNS, SRV, a file, a
 * Kubernetes Service) and hands each new complete list to a {@link Listener}: the one seam
 * between a discovery mechanism and the running group.
 *
 * <p>A source only finds and reports; it never touches the group. The {@link GroupDiscovery} it
 * reports to merges its list with the group's written backends and the other sources' lists, and the
 * proxy then rebuilds the group with the same path a configuration reload takes, which keeps the
 * health marks, latency statistics, sticky pins and pooled connections of the backends that stay.
 *
 * <p>Contract for an implementation:
 * <ul>
 *   <li>{@link #start} returns at once; the work runs on the source's own threads (an event loop,
 *       a scheduled executor, a watch), which may call the listener from any thread.
 *   <li>{@link Listener#found} carries the complete current list, never a difference; an empty list
 *       means "none right now". Reporting the same list again is harmless.
 *   <li>{@link Listener#failed} says that a refresh failed (resolver error, NXDOMAIN, unreadable or
 *       broken file, lost watch); the source keeps its last good list by simply not reporting a new
 *       one, and tries again on its own schedule.
 *   <li>Every source should report once (found or failed) soon after it starts, so that start-up can
 *       wait for first answers before accepting traffic.
 *   <li>{@link #close} stops all work; reports that race with it are ignored by the listener.
 * </ul>
 * Backend ids should be stable for the same backend across reports (the address, as written
 * backends default to), so that the state kept by id follows it.
 */
public interface BackendSource extends AutoCloseable {

  /** Starts finding backends and reporting to {@code listener}; called once. */
  void start(Listener listener);

  /** Stops finding backends and releases what the source holds; called once, after {@link #start}. */
  @Override
  void close();

  /** What the source asks, for log lines: e.g. {@code dns app.internal:8080}. */
  String describe();

  /** Receives a source's reports. Thread-safe. */
  interface Listener {

    /** The source's complete current list of backends, replacing the one it reported before. */
    void found(List<BackendSettings> backends);

    /** A refresh failed for {@code reason}; the last list found stays in force. */
    void failed(String reason);
  }
}
