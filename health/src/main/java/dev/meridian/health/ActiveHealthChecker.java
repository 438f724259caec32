package dev.meridian.health;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendGroup;
import dev.meridian.balancer.NanoClock;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Actively checks every backend of one group, on the proxy's own event loops, and writes the verdicts
 * into the {@link HealthRegistry} under the owner {@value #OWNER}.
 *
 * <p>Each backend is pinned to one event loop of the group given; its checks, their timers and its
 * state live on that loop (no locks, never blocking it). A check opens a new connection (nothing is
 * shared with client traffic) and either just connects ({@code tcp}) or sends {@code GET path} with
 * {@code Connection: close} ({@code http}) and passes when the status is in range and, if configured,
 * the first 64 KiB of the body contain the expected text. The whole check must finish within {@code
 * timeout}. The next check of a backend is scheduled when the previous one ends, after {@code
 * interval} (or {@code downInterval} while the backend is out) jittered by +-10%, so the checks of
 * many backends drift apart instead of arriving together. First checks are spread over one interval
 * (over a tenth of it when backends start out unavailable, so they join quickly).
 *
 * <p>{@code rise} passes in a row make an out backend available ({@link HealthRegistry#clear}),
 * {@code fall} failures in a row mark an available one out ({@code "3 failed checks: <last reason>"}).
 * With {@code initiallyAvailable = false} backends start out and the first pass brings them in. Every
 * pass also tells the {@link OutlierDetector} (if given), which ends a passive ejection early.
 *
 * <p>With a replication lag header configured, each check response's header value (seconds, decimals
 * allowed) is stored with {@link HealthRegistry#setReplicationLag}; a missing or unreadable value
 * makes the lag unknown, which reads treat as caught up. Build the read view with {@link
 * HealthRegistry#readView(Duration)} and {@link ActiveCheckSettings#maxReplicationLag()}.
 *
 * <p>A check connection speaks as the group's traffic does ({@link CheckConnections}): the proxy adds
 * the group's TLS and a PROXY protocol header writer before the check's own handlers, and a group
 * whose backends speak HTTP/2 is checked with one stream on a connection of its own.
 *
 * <p>{@link #start()} begins, {@link #close()} stops and withdraws this checker's marks and lags.
 */
public final class ActiveHealthChecker implements AutoCloseable {
  /** The owner name of this checker's marks in the registry. */
  public static final String OWNER = "active-check";
  /** How much of a response body is searched for {@code bodyContains}. */
  static final int MAX_BODY_BYTES = 64 * 1024;
  private static final double JITTER = 0.10;
  private static final Logger log = LoggerFactory.getLogger(ActiveHealthChecker.class);

  /** The outcome of the last check of a backend. */
  public enum Result { NONE, PASS, FAIL }

  /**
   * What the admin API shows of one backend's checks.
   *
   * @param up                  the checker's verdict (the registry may still hold other owners' marks)
   * @param lastResult          the last check's outcome, NONE before the first
   * @param lastReason          what the last check saw, e.g. {@code "status 200"} or {@code "timeout after 1000 ms"}
   * @param lastCheckAgo        time since the last check ended
   * @param lastCheckTook       how long the last check took
   * @param replicationLag      the last reported replication lag
   */
  public record CheckStatus(String backendId, boolean up, Result lastResult, int consecutivePasses,
      int consecutiveFailures, String lastReason, Optional<Duration> lastCheckAgo,
      Optional<Duration> lastCheckTook, Optional<Duration> replicationLag) {}

  private final HealthRegistry registry;
  private final String groupName;
  private final ActiveCheckSettings settings;
  private final OutlierDetector outliers;
  private final Class<? extends SocketChannel> channelClass;
  private final NanoClock clock;
  private final DoubleSupplier random;
  private final CheckConnections connections;
  private final List<Target> targets = new ArrayList<>();
  private volatile boolean started;
  private volatile boolean closed;

  /**
   * Creates a checker for the group (call {@link #start()}).
   *
   * @param outliers     the group's outlier detector, told of passes; may be null
   * @param loops        the event loops to run checks on (the proxy's own)
   * @param channelClass the socket channel class matching {@code loops}' transport
   * @param clock        the clock check timings are reported on
   * @param random       uniform numbers in [0, 1) for jitter
   * @param connections  how check connections speak to a backend (TLS, PROXY header, HTTP/2)
   */
  public ActiveHealthChecker(BackendGroup group, ActiveCheckSettings settings, HealthRegistry registry,
      OutlierDetector outliers, EventLoopGroup loops, Class<? extends SocketChannel> channelClass,
      NanoClock clock, DoubleSupplier random, CheckConnections connections) {
    this.registry = registry;
    this.connections = connections;
    this.groupName = group.name();
    this.settings = settings;
    this.outliers = outliers;
    this.channelClass = channelClass;
    this.clock = clock;
    this.random = random;
    for (Backend b : group.backends()) {
      targets.add(new Target(b, loops.next()));
    }
  }

  /** Creates a checker with nothing to set up on check connections. */
  public ActiveHealthChecker(BackendGroup group, ActiveCheckSettings settings, HealthRegistry registry,
      OutlierDetector outliers, EventLoopGroup loops, Class<? extends SocketChannel> channelClass,
      NanoClock clock, DoubleSupplier random) {
    this(group, settings, registry, outliers, loops, channelClass, clock, random, CheckConnections.PLAIN);
  }

  /** Creates a checker on the system clock with a random jitter source. */
  public ActiveHealthChecker(BackendGroup group, ActiveCheckSettings settings, HealthRegistry registry,
      OutlierDetector outliers, EventLoopGroup loops, Class<? extends SocketChannel> channelClass) {
    this(group, settings, registry, outliers, loops, channelClass, CheckConnections.PLAIN);
  }

  /**
   * Creates a checker on the system clock with a random jitter source, its check connections set up
   * by {@code connections}.
   */
  public ActiveHealthChecker(BackendGroup group, ActiveCheckSettings settings, HealthRegistry registry,
      OutlierDetector outliers, EventLoopGroup loops, Class<? extends SocketChannel> channelClass,
      CheckConnections connections) {
    this(group, settings, registry, outliers, loops, channelClass, NanoClock.SYSTEM, new Random()::nextDouble,
        connections);
  }

  /**
   * Takes over, before {@link #start}, the check state of the backends {@code previous} checks too
   * (the same id at the same address): up or down, the pass and fail streaks and totals, the last
   * result. Their marks in the registry stay as they are, and {@code previous}, when closed, leaves them
   * alone. A group rebuilt by a reload or a change of its discovered backends thus keeps its backends'
   * health instead of starting over. A backend whose id moved to another address starts over: what was
   * known of the old address says nothing of the new one, and {@link #start} replaces its marks.
   */
  public synchronized void takeOver(ActiveHealthChecker previous) {
    synchronized (previous) {
      for (Target t : targets) {
        for (Target p : previous.targets) {
          if (p.backend.equals(t.backend)) {
            t.inherit(p);
          } else if (p.backend.id().equals(t.backend.id())) {
            t.replaces(p);
          }
        }
      }
    }
  }

  /** Marks backends out if they start unavailable, and schedules every backend's first check. */
  public synchronized void start() {
    if (started || closed) {
      return;
    }
    started = true;
    double spread = settings.initiallyAvailable() ? 1.0 : 0.1;
    for (Target t : targets) {
      if (!settings.initiallyAvailable() && !t.inherited) {
        registry.markOut(t.backend.id(), OWNER, "waiting for the first passing check");
      } else if (t.replacedMoved) {
        registry.clear(t.backend.id(), OWNER); // the old address's mark: the new one is known by its own checks
      }
      if (t.replacedMoved) {
        registry.setReplicationLag(t.backend.id(), null);
      }
      long delay = (long) (random.getAsDouble() * spread * settings.interval().toNanos());
      t.loop.execute(() -> t.scheduleNext(delay));
    }
  }

  /** Stops checking and withdraws this checker's marks and replication lags from the registry. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Target t : targets) {
      try {
        t.loop.execute(t::stop);
      } catch (RejectedExecutionException loopGone) {
        t.stop();
      }
    }
  }

  /** Checks of the backend that passed (or failed) since the checker started; 0 for a backend it does not check. */
  public long checks(String backendId, boolean passed) {
    for (Target t : targets) {
      if (t.backend.id().equals(backendId)) {
        return passed ? t.totalPasses : t.totalFailures;
      }
    }
    return 0;
  }

  /** Every backend's check state, in group order, for the admin API. */
  public List<CheckStatus> statuses() {
    long now = clock.nanoTime();
    List<CheckStatus> out = new ArrayList<>(targets.size());
    for (Target t : targets) {
      boolean checked = t.lastResult != Result.NONE;
      out.add(new CheckStatus(t.backend.id(), t.up, t.lastResult, t.passes, t.failures, t.lastReason,
          checked ? Optional.of(Duration.ofNanos(now - t.lastCheckAt)) : Optional.empty(),
          checked ? Optional.of(Duration.ofNanos(t.lastCheckTook)) : Optional.empty(),
          registry.replicationLag(t.backend.id())));
    }
    return out;
  }

  /** Parses a replication lag header value in seconds ("2", "0.350"); null when unreadable. */
  static Duration parseLag(String value) {
    if (value == null) {
      return null;
    }
    try {
      BigDecimal seconds = new BigDecimal(value.trim());
      return seconds.signum() < 0 ? null : Duration.ofNanos(seconds.movePointRight(9).longValue());
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
  }

  /** One backend: its loop, its counters (written on its loop only) and its pending timer. */
  private final class Target implements CheckAttempt.Outcome {
    final Backend backend;
    final EventLoop loop;
    volatile boolean up = settings.initiallyAvailable();
    volatile boolean awaitingFirstPass = !settings.initiallyAvailable();
    volatile Result lastResult = Result.NONE;
    volatile int passes;
    volatile int failures;
    /** Checks passed and failed since the checker started (written on the target's loop only). */
    volatile long totalPasses;
    volatile long totalFailures;
    volatile String lastReason = "not checked yet";
    volatile long lastCheckAt;
    volatile long lastCheckTook;
    ScheduledFuture<?> next;
    CheckAttempt current;
    /** Whether this target's state came from a previous checker's ({@link #takeOver}). */
    boolean inherited;
    /** Whether this target's id was checked at another address by a previous checker, whose marks it replaces. */
    boolean replacedMoved;
    /** Whether a later checker took this target's state over: then stopping leaves its marks alone. */
    volatile boolean handedOver;

    Target(Backend backend, EventLoop loop) {
      this.backend = backend;
      this.loop = loop;
    }

    /** Copies the state of {@code previous}, which checked the same backend, and marks it handed over. */
    void inherit(Target previous) {
      up = previous.up;
      awaitingFirstPass = previous.awaitingFirstPass;
      lastResult = previous.lastResult;
      passes = previous.passes;
      failures = previous.failures;
      totalPasses = previous.totalPasses;
      totalFailures = previous.totalFailures;
      lastReason = previous.lastReason;
      lastCheckAt = previous.lastCheckAt;
      lastCheckTook = previous.lastCheckTook;
      inherited = true;
      previous.handedOver = true;
    }

    /**
     * Starts over where {@code previous} checked the same id at another address: this target's marks
     * replace its, so {@code previous}, when stopped, leaves them alone.
     */
    void replaces(Target previous) {
      replacedMoved = true;
      previous.handedOver = true;
    }

    void scheduleNext(long delayNanos) {
      if (!closed) {
        next = loop.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
      }
    }

    void check() {
      if (!closed) {
        current = new CheckAttempt(backend, loop, settings, channelClass, connections, clock.nanoTime(), this);
        current.begin();
      }
    }

    @Override
    public void replicationLag(String headerValue) {
      if (!closed) {
        registry.setReplicationLag(backend.id(), parseLag(headerValue));
      }
    }

    @Override
    public void finished(CheckAttempt attempt, boolean passed, String reason) {
      current = null;
      if (closed) {
        return;
      }
      long now = clock.nanoTime();
      lastCheckAt = now;
      lastCheckTook = now - attempt.startedAt();
      lastReason = reason;
      if (passed) {
        totalPasses++;
        recordPass();
      } else {
        totalFailures++;
        recordFailure(reason);
      }
      Duration base = up ? settings.interval() : settings.downInterval();
      scheduleNext((long) (base.toNanos() * (1 + JITTER * (2 * random.getAsDouble() - 1))));
    }

    private void recordPass() {
      lastResult = Result.PASS;
      failures = 0;
      passes++;
      if (!up && (passes >= settings.rise() || awaitingFirstPass)) {
        up = true;
        registry.clear(backend.id(), OWNER);
        log.info("group '{}': backend {} is up: {} passing check(s)", groupName, backend, passes);
      }
      awaitingFirstPass = false;
      if (outliers != null) {
        outliers.activeCheckPassed(backend);
      }
    }

    private void recordFailure(String reason) {
      lastResult = Result.FAIL;
      passes = 0;
      failures++;
      if (up && failures >= settings.fall()) {
        up = false;
        String why = failures + (failures == 1 ? " failed check: " : " failed checks: ") + reason;
        registry.markOut(backend.id(), OWNER, why);
        log.warn("group '{}': backend {} is down: {}", groupName, backend, why);
      }
    }

    void stop() {
      if (next != null) {
        next.cancel(false);
      }
      if (current != null) {
        current.abandon();
      }
      if (handedOver) {
        return;
      }
      registry.clear(backend.id(), OWNER);
      if (settings.replicationLagHeader().isPresent()) {
        registry.setReplicationLag(backend.id(), null);
      }
    }
  }
}
