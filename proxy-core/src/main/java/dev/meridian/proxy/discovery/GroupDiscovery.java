package dev.meridian.proxy.discovery;

import dev.meridian.proxy.config.MeridianSettings.BackendSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The discovered part of one backend group: the last good list of each of its sources, merged into
 * one list of distinct ids after the group's written backends. Logs what each report adds and
 * removes, counts failed refreshes in {@code meridian_discovery_failures_total{group}} and tells
 * {@code onChange} when the merged list changed.
 *
 * <p>Thread-safe: sources report from their own threads.
 */
final class GroupDiscovery implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GroupDiscovery.class);

  private final String group;
  private final List<BackendSource> sources;
  private final Runnable onChange;
  private final Counter failures;
  private final Counter updates;
  /** Each source's last good list, null until it found one. */
  private final List<List<BackendSettings>> lastGood;
  /** Whether each source is failing now, so a failure is logged once and its recovery once. */
  private final boolean[] failing;
  /** Why each failing source failed last, so a failure for another reason is logged too. */
  private final String[] failingReason;
  private final CountDownLatch firstReports;
  private final boolean[] reported;
  /**
   * What the group's previous sources had found (a reload changed its entries), kept in the merged
   * list until every new source reported once, so the group does not stand empty meanwhile.
   */
  private List<BackendSettings> carried;
  private boolean closed;
  /** The written backends' ids at the last {@link #merge}: a discovered backend cannot take one. */
  private Set<String> writtenIds = Set.of();

  /**
   * Creates the discovery of {@code group} over {@code sources} (not started); {@code carried} are
   * the backends its previous sources found, served until the new ones answered (empty at start);
   * {@code written} the group's written backends, whose ids its sources' backends cannot take.
   */
  GroupDiscovery(String group, List<BackendSource> sources, List<BackendSettings> carried,
      List<BackendSettings> written, MeterRegistry registry, Runnable onChange) {
    this.group = group;
    this.writtenIds = ids(written);
    this.carried = List.copyOf(carried);
    this.sources = List.copyOf(sources);
    this.onChange = onChange;
    this.failures = Counter.builder("meridian.discovery.failures").tag("group", group)
        .description("Refreshes of discovered backends that failed (the last good list stayed)").register(registry);
    this.updates = Counter.builder("meridian.discovery.updates").tag("group", group)
        .description("Changes of a group's discovered backends").register(registry);
    this.lastGood = new ArrayList<>();
    this.sources.forEach(s -> lastGood.add(null));
    this.failing = new boolean[this.sources.size()];
    this.failingReason = new String[this.sources.size()];
    this.reported = new boolean[this.sources.size()];
    this.firstReports = new CountDownLatch(this.sources.size());
  }

  /** Starts every source. */
  void start() {
    for (int i = 0; i < sources.size(); i++) {
      int index = i;
      sources.get(i).start(new BackendSource.Listener() {
        @Override
        public void found(List<BackendSettings> backends) {
          GroupDiscovery.this.found(index, backends);
        }

        @Override
        public void failed(String reason) {
          GroupDiscovery.this.failed(index, reason);
        }
      });
    }
  }

  /** Waits until every source reported once (found or failed), at most {@code timeout}. */
  boolean awaitFirstReports(Duration timeout) throws InterruptedException {
    return firstReports.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * The written backends, then the discovered ones: each source's last good list in source order (and,
   * until every source reported once, what the previous sources had found), a backend whose id is
   * already taken (written, or found by an earlier source) left out.
   */
  synchronized List<BackendSettings> merge(List<BackendSettings> written) {
    writtenIds = ids(written);
    Map<String, BackendSettings> byId = new LinkedHashMap<>();
    written.forEach(b -> byId.put(b.id(), b));
    for (List<BackendSettings> list : lastGood) {
      if (list != null) {
        list.forEach(b -> byId.putIfAbsent(b.id(), b));
      }
    }
    if (firstReports.getCount() > 0) {
      carried.forEach(b -> byId.putIfAbsent(b.id(), b));
    }
    return List.copyOf(byId.values());
  }

  private void found(int index, List<BackendSettings> backends) {
    List<BackendSettings> previous;
    Set<String> taken;
    synchronized (this) {
      if (closed) {
        return;
      }
      markReported(index);
      if (failing[index]) {
        failing[index] = false;
        failingReason[index] = null;
        log.info("group '{}': {} answers again", group, sources.get(index).describe());
      }
      previous = lastGood.get(index);
      if (backends.equals(previous)) {
        return;
      }
      lastGood.set(index, List.copyOf(backends));
      taken = takenBefore(index);
    }
    updates.increment();
    logChange(sources.get(index).describe(), previous == null ? List.of() : previous, backends, taken);
    onChange.run();
  }

  /**
   * A failure's reason without what differs from one try to the next for the same failure (a DNS
   * query's id and server in brackets, "[4711: /10.0.0.2:53]"), so an outage is logged once, and a
   * failure of another kind again.
   */
  static String kindOf(String reason) {
    return BRACKETED.matcher(reason).replaceAll("[]");
  }

  private static final java.util.regex.Pattern BRACKETED = java.util.regex.Pattern.compile("\\[[^\\]]*\\]");

  private void failed(int index, String reason) {
    failures.increment();
    int kept;
    boolean carriedDropped;
    boolean again;
    synchronized (this) {
      if (closed) {
        return;
      }
      carriedDropped = markReported(index) && !carried.isEmpty();
      String kind = kindOf(reason);
      if (failing[index] && kind.equals(failingReason[index])) {
        log.debug("group '{}': {} still failing: {}", group, sources.get(index).describe(), reason);
        return;
      }
      again = failing[index];
      failing[index] = true;
      failingReason[index] = kind;
      kept = lastGood.get(index) == null ? 0 : lastGood.get(index).size();
    }
    // A source still failing, but for another reason (an operator's second edit of a file broke it
    // another way): said, or the log would show only the first mistake.
    log.warn("group '{}': {} {}, keeping the last good list ({} backend(s)): {}", group,
        sources.get(index).describe(), again ? "still failing, for another reason" : "failed", kept, reason);
    if (carriedDropped) {
      onChange.run(); // the previous sources' backends no longer count
    }
  }

  /** Notes a source's report; returns whether it was the last source's first one. */
  private boolean markReported(int index) {
    if (reported[index]) {
      return false;
    }
    reported[index] = true;
    firstReports.countDown();
    return firstReports.getCount() == 0;
  }

  /** The ids a source's backends cannot take: the written backends' and the earlier sources'. Under the lock. */
  private Set<String> takenBefore(int index) {
    Set<String> taken = new HashSet<>(writtenIds);
    for (int i = 0; i < index; i++) {
      if (lastGood.get(i) != null) {
        taken.addAll(ids(lastGood.get(i)));
      }
    }
    return taken;
  }

  /**
   * Logs what a source's new list changes: ids added, removed, and changed (another address, weight,
   * region...), and those left out because a written backend or an earlier source has the id (the
   * group keeps the first; an operator reading "added" would otherwise take it for served).
   */
  private void logChange(String source, List<BackendSettings> before, List<BackendSettings> after, Set<String> taken) {
    Map<String, BackendSettings> old = new LinkedHashMap<>();
    before.forEach(b -> old.putIfAbsent(b.id(), b));
    Set<String> now = ids(after);
    List<String> added = after.stream().map(BackendSettings::id).filter(id -> !old.containsKey(id) && !taken.contains(id))
        .distinct().toList();
    Map<String, BackendSettings> firstById = new LinkedHashMap<>();
    after.forEach(b -> firstById.putIfAbsent(b.id(), b)); // a source's id is kept once, the first entry's
    List<String> changed = firstById.values().stream().filter(b -> old.containsKey(b.id()) && !old.get(b.id()).equals(b)
        && !taken.contains(b.id())).map(BackendSettings::id).toList();
    List<String> removed = before.stream().map(BackendSettings::id).filter(id -> !now.contains(id) && !taken.contains(id))
        .distinct().toList();
    List<String> leftOut = after.stream().map(BackendSettings::id).filter(taken::contains).distinct().toList();
    log.info("group '{}': {} found {} backend(s){}{}{}{}", group, source, after.size(),
        added.isEmpty() ? "" : ", added " + added, changed.isEmpty() ? "" : ", changed " + changed,
        removed.isEmpty() ? "" : ", removed " + removed,
        leftOut.isEmpty() ? "" : ", left out " + leftOut + " (the id is a written backend's or an earlier source's)");
  }

  private static Set<String> ids(List<BackendSettings> list) {
    Set<String> ids = new HashSet<>();
    list.forEach(b -> ids.add(b.id()));
    return ids;
  }

  /** Stops every source; later reports are ignored. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    sources.forEach(BackendSource::close);
  }
}
