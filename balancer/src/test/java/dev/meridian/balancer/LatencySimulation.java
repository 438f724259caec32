package dev.meridian.balancer;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.BiFunction;

/**
 * A deterministic discrete-event simulation of the proxy feeding {@link GroupStats}: requests arrive at
 * a fixed interval on a fake clock, each is sent to the selector's pick ({@code requestStarted}), its
 * latency is observed when its response arrives {@code rtt} later ({@code observe}, then
 * {@code requestFinished}). Backend latencies can be changed between runs.
 */
final class LatencySimulation {
  private long now;
  private final NanoClock clock = () -> now;
  private final List<Backend> backends = new ArrayList<>();
  private final long[] rttNanos;
  private final GroupStats stats;
  private final BackendSelector selector;
  private final PriorityQueue<long[]> responses = new PriorityQueue<>((x, y) -> Long.compare(x[0], y[0]));
  private final SelectionContext context = new SelectionContext();
  /** Picks of an unsampled backend with a probe in flight while a better-suited backend was usable. */
  int extraProbes;

  LatencySimulation(long[] rttMillis, BiFunction<List<Backend>, GroupStats, BackendSelector> selectorFactory) {
    this(rttMillis, GroupStats.DEFAULT_DECAY_NANOS, selectorFactory);
  }

  LatencySimulation(long[] rttMillis, long decayNanos, BiFunction<List<Backend>, GroupStats, BackendSelector> selectorFactory) {
    rttNanos = new long[rttMillis.length];
    for (int i = 0; i < rttMillis.length; i++) {
      backends.add(new Backend("b" + i, "127.0.0.1", 9000 + i, "r", 1));
      rttNanos[i] = rttMillis[i] * 1_000_000L;
    }
    stats = new GroupStats(backends, clock, decayNanos);
    selector = selectorFactory.apply(List.copyOf(backends), stats);
  }

  List<Backend> backends() {
    return backends;
  }

  GroupStats stats() {
    return stats;
  }

  /** Changes a backend's latency for requests sent from now on. */
  void latency(int backend, long millis) {
    rttNanos[backend] = millis * 1_000_000L;
  }

  /** Sends {@code requests} requests, one every {@code intervalMicros}; returns the picks, in order. */
  int[] run(int requests, long intervalMicros) {
    int[] picks = new int[requests];
    for (int r = 0; r < requests; r++) {
      long arrival = now + intervalMicros * 1_000L;
      deliverResponsesUntil(arrival);
      now = arrival;
      Backend chosen = selector.select(context);
      int i = backends.indexOf(chosen);
      BackendStats s = stats.of(chosen);
      if (!s.hasSample() && s.inFlight() > 0 && aBetterCandidateExists()) {
        extraProbes++;
      }
      s.requestStarted();
      responses.add(new long[] {now + rttNanos[i], i, rttNanos[i]});
      picks[r] = i;
    }
    return picks;
  }

  private boolean aBetterCandidateExists() {
    for (Backend b : backends) {
      BackendStats s = stats.of(b);
      if (s.hasSample() || s.inFlight() == 0) {
        return true;
      }
    }
    return false;
  }

  private void deliverResponsesUntil(long time) {
    while (!responses.isEmpty() && responses.peek()[0] <= time) {
      long[] response = responses.poll();
      now = response[0];
      BackendStats s = stats.of(backends.get((int) response[1]));
      s.observe(response[2]);
      s.requestFinished();
    }
  }

  /** The fraction of picks in {@code [from, to)} that went to the backend. */
  static double share(int[] picks, int from, int to, int backend) {
    int count = 0;
    for (int i = from; i < to; i++) {
      if (picks[i] == backend) {
        count++;
      }
    }
    return (double) count / (to - from);
  }

  /** How many picks in {@code [from, to)} went to the backend. */
  static int count(int[] picks, int from, int to, int backend) {
    return (int) Math.round(share(picks, from, to, backend) * (to - from));
  }
}
