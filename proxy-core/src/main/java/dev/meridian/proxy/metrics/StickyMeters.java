package dev.meridian.proxy.metrics;

import dev.meridian.balancer.StickyCookie;
import dev.meridian.balancer.StickyPin;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;

/**
 * One route's sticky-session counters, all registered up front so recording allocates nothing:
 * <ul>
 *   <li>{@code meridian_sticky_pins_total{route, result, reason}}: what became of each request's pin,
 *       {@code result} one of {@code honoured}, {@code new} (no valid cookie: a pin was made),
 *       {@code repinned}, {@code overridden} (the writer region or a read-your-writes window took this
 *       request elsewhere) and {@code refused} (strict: answered 503); {@code reason} why a pin was
 *       not honoured ({@code none} otherwise);</li>
 *   <li>{@code meridian_sticky_invalid_cookies_total{route, reason}}: cookies ignored and replaced,
 *       by {@link StickyCookie.Invalid#label()}.</li>
 * </ul>
 * Thread-safe.
 */
public final class StickyMeters {
  private final Counter honoured;
  private final Counter created;
  private final Map<StickyPin.Reason, Counter> repinned = new EnumMap<>(StickyPin.Reason.class);
  private final Map<StickyPin.Reason, Counter> overridden = new EnumMap<>(StickyPin.Reason.class);
  private final Map<StickyPin.Reason, Counter> refused = new EnumMap<>(StickyPin.Reason.class);
  private final Map<StickyCookie.Invalid, Counter> invalid = new EnumMap<>(StickyCookie.Invalid.class);

  StickyMeters(MeterRegistry registry, String route) {
    this.honoured = pins(registry, route, "honoured", "none");
    this.created = pins(registry, route, "new", "none");
    for (StickyPin.Reason reason : StickyPin.Reason.values()) {
      repinned.put(reason, pins(registry, route, "repinned", reason.label()));
      refused.put(reason, pins(registry, route, "refused", reason.label()));
    }
    overridden.put(StickyPin.Reason.WRITER, pins(registry, route, "overridden", StickyPin.Reason.WRITER.label()));
    overridden.put(StickyPin.Reason.READ_YOUR_WRITES,
        pins(registry, route, "overridden", StickyPin.Reason.READ_YOUR_WRITES.label()));
    for (StickyCookie.Invalid reason : StickyCookie.Invalid.values()) {
      invalid.put(reason, Counter.builder("meridian.sticky.invalid.cookies")
          .description("Sticky-session cookies ignored and replaced, by reason")
          .tag("route", route).tag("reason", reason.label()).register(registry));
    }
  }

  private static Counter pins(MeterRegistry registry, String route, String result, String reason) {
    return Counter.builder("meridian.sticky.pins")
        .description("Requests of sticky routes by what became of their pin")
        .tag("route", route).tag("result", result).tag("reason", reason).register(registry);
  }

  /** The pinned backend took the request. */
  public void honoured() {
    honoured.increment();
  }

  /** The request had no valid pin; the backend that answered is now pinned. */
  public void created() {
    created.increment();
  }

  /** The pin was moved to another backend. */
  public void repinned(StickyPin.Reason reason) {
    repinned.get(reason).increment();
  }

  /** A rule with precedence sent this request elsewhere; the pin stands. */
  public void overridden(StickyPin.Reason reason) {
    Counter c = overridden.get(reason);
    if (c != null) {
      c.increment();
    }
  }

  /** Strict stickiness answered 503. */
  public void refused(StickyPin.Reason reason) {
    refused.get(reason).increment();
  }

  /** A cookie was ignored. */
  public void invalid(StickyCookie.Invalid reason) {
    invalid.get(reason).increment();
  }
}
