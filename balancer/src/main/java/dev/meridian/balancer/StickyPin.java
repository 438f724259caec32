package dev.meridian.balancer;

/**
 * What became of a request's sticky pin in {@link RegionalSelector}: the override of the backend to
 * select, honoured only when that backend is usable (Envoy's stateful session model).
 */
public final class StickyPin {
  private StickyPin() {}

  /** The outcome of a pick for a request that carried a pin. */
  public enum Outcome {
    /** The request carried no pin. */
    NONE,
    /** The pinned backend was usable and chosen. */
    HONOURED,
    /** The pinned backend could not take the request; another was chosen and the client is re-pinned. */
    REPINNED,
    /**
     * A rule that takes precedence (writes to the writer region, reads in a read-your-writes window)
     * sent this one request elsewhere; the pin stands for the next.
     */
    OVERRIDDEN,
    /** Strict stickiness: the pinned backend could not take the request and no other may. */
    REFUSED
  }

  /** Why a pin was not honoured (labels are metric tag values). */
  public enum Reason {
    /** An attempt on the pinned backend failed during this request. */
    FAILED("failed"),
    /** Health checks, outlier detection or an operator took the pinned backend out (or its drain ended). */
    UNAVAILABLE("unavailable"),
    /** The pinned backend's region is not allowed for the request's residency class. */
    RESIDENCY("residency"),
    /** The pinned backend's region is dialled to 0. */
    DIALLED_OUT("region-dialled-out"),
    /** The pinned backend is no longer in the group. */
    GONE("gone"),
    /** A write goes to the writer region, which is not the pinned backend's. */
    WRITER("writer-region"),
    /** A read inside a read-your-writes window goes to the writer region. */
    READ_YOUR_WRITES("read-your-writes");

    private final String label;

    Reason(String label) {
      this.label = label;
    }

    /** The reason as a metric tag value and log word. */
    public String label() {
      return label;
    }
  }
}
