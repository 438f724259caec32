package dev.meridian.proxy.regions;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Requests sent to one region of one backend group since start: how many were picked for it (each
 * attempt, counted as it is sent: the share of new traffic a region gets, which moves the moment a
 * dial or an ejection does), how many it answered, the errors among them by kind, and their latency
 * (request start to response end). Lock-free; recording allocates nothing.
 *
 * <p>Error kinds: {@code backend-5xx} (a backend, or a fault injected as if from one, answered 5xx),
 * {@code local-502}, {@code local-503}, {@code local-504} and {@code local-5xx} (Meridian answered
 * itself: could not reach a backend, none available, timed out), {@code cut-off} (the response
 * started and then broke off).
 */
public final class RegionCounters {
  private final LongAdder picked = new LongAdder();
  private final LongAdder requests = new LongAdder();
  private final LongAdder backend5xx = new LongAdder();
  private final LongAdder local502 = new LongAdder();
  private final LongAdder local503 = new LongAdder();
  private final LongAdder local504 = new LongAdder();
  private final LongAdder localOther5xx = new LongAdder();
  private final LongAdder cutOff = new LongAdder();
  private final LatencyBuckets latency = new LatencyBuckets();

  /** Counts a request picked for a backend of this region (an attempt about to be sent). */
  public void picked() {
    picked.increment();
  }

  /** Attempts picked for this region. */
  public long pickedCount() {
    return picked.sum();
  }

  /**
   * Records one finished request.
   *
   * @param status  the status the client got (0 when none)
   * @param local   the answer was Meridian's own, not a backend's
   * @param cut     the response started but did not complete
   * @param nanos   from the request's start to its end
   */
  public void record(int status, boolean local, boolean cut, long nanos) {
    requests.increment();
    latency.record(nanos);
    if (cut) {
      cutOff.increment();
    } else if (status >= 500 && !local) {
      backend5xx.increment();
    } else if (status == 502) {
      local502.increment();
    } else if (status == 503) {
      local503.increment();
    } else if (status == 504) {
      local504.increment();
    } else if (status >= 500) {
      localOther5xx.increment();
    }
  }

  /** Requests recorded. */
  public long requests() {
    return requests.sum();
  }

  /** Errors recorded, every kind. */
  public long errors() {
    return backend5xx.sum() + local502.sum() + local503.sum() + local504.sum() + localOther5xx.sum() + cutOff.sum();
  }

  /** The error counts by kind, for the admin API. */
  public Map<String, Long> errorsByKind() {
    Map<String, Long> out = new LinkedHashMap<>();
    out.put("backend-5xx", backend5xx.sum());
    out.put("local-502", local502.sum());
    out.put("local-503", local503.sum());
    out.put("local-504", local504.sum());
    out.put("local-5xx", localOther5xx.sum());
    out.put("cut-off", cutOff.sum());
    return out;
  }

  /** The latency histogram's cumulative bucket counts. */
  public long[] latencyBuckets() {
    return latency.snapshot();
  }
}
