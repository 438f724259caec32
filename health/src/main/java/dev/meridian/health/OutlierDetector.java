package dev.meridian.health;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.BackendStats;
import dev.meridian.balancer.GroupStats;
import dev.meridian.balancer.NanoClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Passive health for one backend group: the proxy reports what real traffic saw, the detector decides
 * whether a backend is an outlier and ejects it for a while (Envoy's outlier detection, simplified).
 *
 * <p>What the proxy calls:
 * <ul>
 *   <li>{@link #onResponse(Backend, int)} for every response status from a backend (a non-5xx status
 *       is a success and ends both failure streaks);</li>
 *   <li>{@link #onGatewayFailure(Backend, String)} when no response came: reset, timeout (counts
 *       toward both streaks);</li>
 *   <li>{@link #onConnectFailure(Backend, boolean)} when no connection could be made: a refused one
 *       ejects at once (unless {@code ejectOnConnectRefused} is off), a timed-out one is a gateway
 *       failure;</li>
 *   <li>{@link #tick()} about once a second from a timer, which ends ejections whose time is up and
 *       looks for latency outliers;</li>
 *   <li>{@link #activeCheckPassed(Backend)}, called by the {@link ActiveHealthChecker}: a passing active
 *       check ends an ejection early.</li>
 * </ul>
 *
 * <p>Ejection: {@code consecutive5xx} 5xx (when counted: off by default) or
 * {@code consecutiveGatewayFailures} gateway failures in a row mark the backend out in the {@link HealthRegistry} (owner {@code outlier}) for {@code
 * baseEjectionTime x n}, n the number of times it has been ejected, capped at {@code
 * maxEjectionTime}. n goes down by one for every {@code maxEjectionTime} the backend then spends
 * without an ejection, so an old incident is slowly forgiven. An ejection is refused (the streak is
 * kept, so the next failure tries again) when it would take more than {@code maxEjectionPercent} of
 * the group out at once, or when no other backend of the group is available in the registry: the
 * detector never ejects the last available backend.
 *
 * <p>Latency outliers (only when {@code latencyFactor > 0} and stats are given): on every tick each
 * available backend's peak-EWMA cost ({@link BackendStats#costNanos()}) is compared with the median
 * cost of the group's <em>other</em> available, sampled backends (leaving the backend itself out keeps
 * one slow backend from dragging the median up, and makes the rule work for two-backend groups). A
 * backend that is above {@code latencyFactor x median} on every tick for {@code latencyWindow} is
 * ejected under the same rules; one tick below the line restarts its window. Because the EWMA reacts
 * to a single slow answer at once (peak) but decays within seconds, the window is what separates a
 * backend that is slow from one that had one slow request. While ejected its EWMA decays, so it returns
 * with a clean slate; if it is still slow it is ejected again, for longer.
 *
 * <p>Thread-safe: outcomes arrive from many event loops; every method that changes state is
 * synchronized (each is a few field updates; the registry is written only on ejection and return),
 * except that a plain success, the common case, returns without the lock when nothing is counted.
 */
public final class OutlierDetector {
  /** The owner name of this detector's marks in the registry. */
  public static final String OWNER = "outlier";

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OutlierDetector.class);

  private final HealthRegistry registry;
  private final String groupName;
  private final PassiveSettings settings;
  private final GroupStats stats;
  private final NanoClock clock;
  /** Filled in the constructor and never changed after: read without the lock. */
  private final Map<String, State> states = new LinkedHashMap<>();
  /**
   * The detector that took this one's place ({@link #takeOver}), or null while this one is in use:
   * what this one is told then goes there. Set under both detectors' locks.
   */
  private volatile OutlierDetector successor;

  /**
   * Per-backend counters; written under the detector's lock. The two consecutive-failure counts are
   * volatile so that a success finds them at zero without the lock (see {@link #onResponse}).
   */
  private static final class State {
    final Backend backend;
    volatile int consecutive5xx;
    volatile int consecutiveGatewayFailures;
    int ejections;
    /** Every ejection since the detector started (ejections above decays; this never does). */
    volatile long totalEjections;
    boolean ejected;
    long ejectedUntil;
    long lastReturnOrDecay;
    long slowSince = -1;
    /** When a connection to the backend was last refused; read without the lock by retries. */
    volatile long refusedAt;
    volatile boolean refusedRecently;
    String lastReason = "";

    State(Backend backend) {
      this.backend = backend;
    }
  }

  /** What the admin API shows of one backend. */
  public record OutlierStatus(String backendId, boolean ejected, Optional<Duration> ejectedFor,
      int timesEjected, int consecutive5xx, int consecutiveGatewayFailures, String lastReason) {}

  /**
   * Creates a detector for the group.
   *
   * @param stats the group's latency stats, for latency outliers; may be null when they are off
   * @param clock the clock ejection times and latency windows are measured on
   */
  public OutlierDetector(BackendGroup group, HealthRegistry registry, PassiveSettings settings,
      GroupStats stats, NanoClock clock) {
    if (settings.latencyOutliersEnabled() && stats == null) {
      throw new IllegalArgumentException("stats: null (expected: the group's stats when latency-factor > 0)");
    }
    this.registry = registry;
    this.groupName = group.name();
    this.settings = settings;
    this.stats = stats;
    this.clock = clock;
    long now = clock.nanoTime();
    for (Backend b : group.backends()) {
      State s = new State(b);
      s.lastReturnOrDecay = now;
      states.put(b.id(), s);
    }
  }

  /**
   * Takes over {@code previous}'s state of the backends both watch (the same id at the same address):
   * ejections and when they end, streaks, totals; from now on what {@code previous} is told goes to
   * this detector. Call it when this detector's group is about to replace {@code previous}'s: requests
   * still in flight on the old group then count here, and a failure they meet cannot leave a mark in
   * the registry that no running detector would ever end. The caller leaves the {@link #OWNER} marks
   * of the backends taken over, which this detector's {@link #tick} now ends in time. A backend whose id
   * moved to another address is another backend: its ejection (of the old address) is ended here.
   */
  public void takeOver(OutlierDetector previous) {
    if (previous == this) {
      return;
    }
    synchronized (previous) {
      synchronized (this) {
        previous.states.forEach((id, old) -> {
          State s = states.get(id);
          if (s != null && s.backend.equals(old.backend)) {
            s.consecutive5xx = old.consecutive5xx;
            s.consecutiveGatewayFailures = old.consecutiveGatewayFailures;
            s.ejections = old.ejections;
            s.totalEjections = old.totalEjections;
            s.ejected = old.ejected;
            s.ejectedUntil = old.ejectedUntil;
            s.lastReturnOrDecay = old.lastReturnOrDecay;
            s.slowSince = old.slowSince;
            s.refusedAt = old.refusedAt;
            s.refusedRecently = old.refusedRecently;
            s.lastReason = old.lastReason;
          } else if (s != null && old.ejected) {
            log.info("group '{}': backend {} moved to {}: its ejection at the old address ends", groupName,
                id, s.backend.authority());
            registry.clear(id, OWNER);
          }
        });
        previous.successor = this;
      }
    }
  }

  /**
   * The state of this backend: of its id, when that id is at the backend's address (a request still
   * in flight to an address a reload moved the id from reports on another backend); else null.
   */
  private State stateOf(Backend backend) {
    State s = states.get(backend.id()); // the map is filled once, in the constructor
    return s != null && s.backend.equals(backend) ? s : null;
  }

  /**
   * A response with this status came from the backend. The common case, a success while no failure
   * is being counted, changes nothing and takes no lock (every event loop reports every response):
   * at worst, a success racing a failure on another loop leaves that failure counted.
   */
  public void onResponse(Backend backend, int status) {
    OutlierDetector next = successor;
    if (next != null) {
      next.onResponse(backend, status);
      return;
    }
    State s = stateOf(backend);
    if ((status < 500 || !settings.counts5xx())
        && (s == null || s.consecutive5xx == 0 && s.consecutiveGatewayFailures == 0)) {
      return;
    }
    recordResponse(backend, s, status);
  }

  private void recordResponse(Backend backend, State s, int status) {
    OutlierDetector next = recordHere(() -> recordResponseLocked(s, status));
    if (next != null) {
      next.onResponse(backend, status);
    }
  }

  /**
   * Records an outcome with the lock held, unless a detector took this one's place: returns that
   * one, for the caller to tell instead (outside this one's lock), or null when recorded here.
   */
  private synchronized OutlierDetector recordHere(Runnable record) {
    if (successor == null) {
      record.run();
    }
    return successor;
  }

  private void recordResponseLocked(State s, int status) {
    if (s == null || s.ejected) {
      return;
    }
    s.consecutiveGatewayFailures = 0;
    if (status < 500 || !settings.counts5xx()) {
      s.consecutive5xx = 0;
      return;
    }
    s.consecutive5xx++;
    if (s.consecutive5xx >= settings.consecutive5xx()) {
      eject(s, s.consecutive5xx + " consecutive 5xx responses (last " + status + ")");
    }
  }

  /**
   * No response came from the backend.
   *
   * @param kind what happened, for the reason text: {@code connect-refused}, {@code reset}, {@code timeout}
   */
  public void onGatewayFailure(Backend backend, String kind) {
    OutlierDetector next = recordHere(() -> recordGatewayFailure(stateOf(backend), kind));
    if (next != null) {
      next.onGatewayFailure(backend, kind);
    }
  }

  private void recordGatewayFailure(State s, String kind) {
    if (s == null || s.ejected) {
      return;
    }
    s.consecutive5xx++;
    s.consecutiveGatewayFailures++;
    if (s.consecutiveGatewayFailures >= settings.consecutiveGatewayFailures()) {
      eject(s, s.consecutiveGatewayFailures + " consecutive gateway failures (last " + kind + ")");
    } else if (settings.counts5xx() && s.consecutive5xx >= settings.consecutive5xx()) {
      eject(s, s.consecutive5xx + " consecutive 5xx responses (last " + kind + ")");
    }
  }

  /**
   * No connection could be made to the backend. A refused connection means nothing listens (the
   * process died or is restarting): with {@code ejectOnConnectRefused} the backend is ejected at once,
   * beyond {@code maxEjectionPercent} (the panic threshold keeps too many ejections from starving a
   * region), though never the group's last available backend. Otherwise, and for a connect timeout,
   * it counts as a gateway failure.
   */
  public void onConnectFailure(Backend backend, boolean refused) {
    OutlierDetector next = recordHere(() -> recordConnectFailure(stateOf(backend), refused));
    if (next != null) {
      next.onConnectFailure(backend, refused);
    }
  }

  private void recordConnectFailure(State s, boolean refused) {
    if (s == null) {
      return;
    }
    if (refused) {
      s.refusedAt = clock.nanoTime();
      s.refusedRecently = true;
    }
    if (s.ejected) {
      return;
    }
    if (refused && settings.ejectOnConnectRefused()) {
      s.consecutiveGatewayFailures++;
      eject(s, "connection refused", true);
      return;
    }
    recordGatewayFailure(s, refused ? "connect-refused" : "connect-timeout");
  }

  /**
   * Whether a connection to the backend was refused within the last base ejection time: a retry
   * does not go there. Lock-free; called on retries from any event loop.
   */
  public boolean recentlyRefused(Backend backend) {
    OutlierDetector next = successor;
    if (next != null) {
      return next.recentlyRefused(backend);
    }
    State s = stateOf(backend);
    return s != null && s.refusedRecently
        && clock.nanoTime() - s.refusedAt < settings.baseEjectionTime().toNanos();
  }

  /** An active check of the backend passed: an ejected backend returns now, and it accepts connections. */
  public void activeCheckPassed(Backend backend) {
    checked = true;
    OutlierDetector next = recordHere(() -> recordCheckPassed(stateOf(backend)));
    if (next != null) {
      next.activeCheckPassed(backend);
    }
  }

  /**
   * An operator vouches for the backend (the admin API's restore): as after a passing active check,
   * an ejection ends now and its refused connections are forgotten.
   */
  public void reinstate(Backend backend) {
    activeCheckPassed(backend);
  }

  private void recordCheckPassed(State s) {
    if (s == null) {
      return;
    }
    s.refusedRecently = false;
    if (s.ejected) {
      giveBack(s, clock.nanoTime());
    }
  }

  /** Ends ejections whose time is up, forgives old ejections, and looks for latency outliers. */
  public synchronized void tick() {
    if (successor != null) {
      return; // replaced: its successor ends ejections and finds outliers now
    }
    long now = clock.nanoTime();
    long forgiveAfter = settings.maxEjectionTime().toNanos();
    for (State s : states.values()) {
      if (s.ejected && now - s.ejectedUntil >= 0) {
        giveBack(s, now);
      } else if (!s.ejected && s.ejections > 0 && now - s.lastReturnOrDecay >= forgiveAfter) {
        s.ejections--;
        s.lastReturnOrDecay = now;
      }
    }
    if (settings.latencyOutliersEnabled()) {
      findLatencyOutliers(now);
    }
  }

  /** Whether the detector has the backend ejected now. */
  public synchronized boolean isEjected(Backend backend) {
    State s = stateOf(backend);
    return s != null && s.ejected;
  }

  /** How many times the backend was ejected since the detector started (0 for a backend it does not know). */
  public long totalEjections(String backendId) {
    State s = states.get(backendId);
    return s == null ? 0 : s.totalEjections;
  }

  /** Every backend's detector state, in group order, for the admin API. */
  public synchronized List<OutlierStatus> statuses() {
    long now = clock.nanoTime();
    List<OutlierStatus> out = new ArrayList<>(states.size());
    for (State s : states.values()) {
      Optional<Duration> left = s.ejected
          ? Optional.of(Duration.ofNanos(Math.max(0, s.ejectedUntil - now))) : Optional.empty();
      out.add(new OutlierStatus(s.backend.id(), s.ejected, left, s.ejections, s.consecutive5xx,
          s.consecutiveGatewayFailures, s.lastReason));
    }
    return out;
  }

  private void findLatencyOutliers(long now) {
    List<State> sampled = new ArrayList<>();
    for (State s : states.values()) {
      BackendStats bs = stats.of(s.backend);
      if (!s.ejected && registry.isAvailable(s.backend.id()) && bs != null && bs.hasSample()) {
        sampled.add(s);
      } else {
        s.slowSince = -1;
      }
    }
    if (sampled.size() < 2) {
      sampled.forEach(s -> s.slowSince = -1);
      return;
    }
    double[] costs = new double[sampled.size()];
    for (int i = 0; i < costs.length; i++) {
      costs[i] = stats.of(sampled.get(i).backend).costNanos();
    }
    long window = settings.latencyWindow().toNanos();
    for (int i = 0; i < costs.length; i++) {
      State s = sampled.get(i);
      double median = medianWithout(costs, i);
      if (median <= 0 || costs[i] <= settings.latencyFactor() * median) {
        s.slowSince = -1;
        continue;
      }
      if (s.slowSince < 0) {
        s.slowSince = now;
      }
      if (now - s.slowSince >= window) {
        eject(s, String.format("latency %.1fx the group median (%.1f ms vs %.1f ms) for %ss",
            costs[i] / median, costs[i] / 1e6, median / 1e6, settings.latencyWindow().toSeconds()));
      }
    }
  }

  private static double medianWithout(double[] costs, int skip) {
    List<Double> others = new ArrayList<>(costs.length - 1);
    for (int i = 0; i < costs.length; i++) {
      if (i != skip) {
        others.add(costs[i]);
      }
    }
    Collections.sort(others);
    int n = others.size();
    return n % 2 == 1 ? others.get(n / 2) : (others.get(n / 2 - 1) + others.get(n / 2)) / 2;
  }

  /** Whether active checks have reported a pass here: an ejection then ends at the next one. */
  private volatile boolean checked;

  private void eject(State s, String reason) {
    eject(s, reason, false);
  }

  /** Ejects unless that would take out the last available backend or, unless {@code beyondCap}, too many. */
  private void eject(State s, String reason, boolean beyondCap) {
    if (!mayEject(s, beyondCap)) {
      return;
    }
    long now = clock.nanoTime();
    s.ejections++;
    s.totalEjections++;
    long base = settings.baseEjectionTime().toNanos();
    long max = settings.maxEjectionTime().toNanos();
    long time = Math.min(max, base * Math.min(s.ejections, max / base + 1));
    s.ejected = true;
    s.ejectedUntil = now + time;
    s.slowSince = -1;
    // With active checks an ejection ends at the first passing check: the log says so, or "180s"
    // reads as a promise the checks break a second later.
    s.lastReason = reason + ", ejected for " + Duration.ofNanos(time).toSeconds() + "s"
        + (checked ? " or until an active check passes" : "");
    log.warn("group '{}': backend {} ejected: {}", groupName, s.backend, s.lastReason);
    registry.markOut(s.backend.id(), OWNER, s.lastReason);
  }

  private boolean mayEject(State s, boolean beyondCap) {
    int total = states.size();
    int ejectedNow = 0;
    boolean otherAvailable = false;
    for (State other : states.values()) {
      if (other.ejected) {
        ejectedNow++;
      } else if (other != s && registry.isAvailable(other.backend.id())) {
        otherAvailable = true;
      }
    }
    return otherAvailable && (beyondCap || (ejectedNow + 1) * 100L <= (long) settings.maxEjectionPercent() * total);
  }

  private void giveBack(State s, long now) {
    s.ejected = false;
    s.consecutive5xx = 0;
    s.consecutiveGatewayFailures = 0;
    s.lastReturnOrDecay = now;
    log.info("group '{}': backend {} returns from ejection", groupName, s.backend);
    registry.clear(s.backend.id(), OWNER);
  }
}
