package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendStats;
import dev.meridian.balancer.BackendSelector;
import dev.meridian.balancer.SelectionContext;
import dev.meridian.balancer.StickyCookie;
import dev.meridian.balancer.StickyPin;
import dev.meridian.proxy.http.RequestCookies;
import dev.meridian.proxy.metrics.StickyMeters;
import dev.meridian.proxy.routing.StickyPolicy;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sticky sessions around the choose phase, for routes with {@code sticky}.
 * <ol>
 *   <li>{@link #pin} (admission): reads the client's pin, Meridian's signed cookie or the hash of the
 *       application's session cookie, and puts it on the selection as the backend to choose when it
 *       is usable ({@link dev.meridian.balancer.RegionalSelector} decides). A cookie that is not
 *       genuine, current and for this group is ignored and counted.</li>
 *   <li>{@link #onResponse} (a backend answered): sets the cookie when the pin was made or moved,
 *       never when it was honoured, and counts what became of it.</li>
 *   <li>{@link #refusal} (strict, nothing chosen): the 503's explanation.</li>
 * </ol>
 */
final class StickySessions {
  private static final Logger log = LoggerFactory.getLogger(StickySessions.class);

  /** Cookies of the pin's name a request may carry that are checked for a genuine one. */
  private static final int MAX_PINS_CHECKED = 4;

  private StickySessions() {}

  /** Puts the request's pin, if it has a usable one, on its selection. */
  static void pin(Exchange ex, ProxyContext context) {
    StickyPolicy policy = ex.route.sticky();
    HttpHeaders headers = ex.request.headers();
    boolean cookieMode = policy.mode() == StickyPolicy.Mode.COOKIE;
    String name = cookieMode ? policy.cookie() : policy.appCookie();
    String header = cookieField(headers, name);
    if (header == null) {
      if (cookieMode && !policy.formerCookie().isEmpty()) {
        pinUnderFormerName(ex, context, policy, headers);
      }
      return;
    }
    long range = RequestCookies.find(header, name);
    int start = RequestCookies.start(range);
    int end = RequestCookies.end(range);
    StickyTargets targets = ex.group.sticky();
    if (!cookieMode) {
      pinAppSession(ex, targets, header, start, end, policy.strict());
      return;
    }
    StickyCookie.Claim claim = firstGenuine(ex, context, policy, headers, name);
    if (!claim.isValid()) {
      context.metrics.sticky(ex.route.name()).invalid(claim.invalid());
      ex.stickyNote = "cookie ignored: " + claim.invalid().label();
      log.debug("{}: route {}: sticky cookie ignored and replaced: {}", ex.requestId, ex.route.name(),
          claim.invalid().label());
      return;
    }
    pinClaim(ex, policy, claim);
  }

  /**
   * The client has no cookie under the group's name but may have one under its former name (the
   * group's cookie was renamed when a second group's routes began to use the default name): a pin of
   * this group found there holds, and {@link #onResponse} moves it to the new name. Anything else
   * under the former name is not this group's and is left alone, uncounted.
   */
  private static void pinUnderFormerName(Exchange ex, ProxyContext context, StickyPolicy policy,
      HttpHeaders headers) {
    String header = cookieField(headers, policy.formerCookie());
    if (header == null) {
      return;
    }
    long range = RequestCookies.find(header, policy.formerCookie());
    StickyCookie.Claim claim = read(ex, context, policy, header, RequestCookies.start(range),
        RequestCookies.end(range));
    if (claim.isValid()) {
      ex.stickyRenamedIssuedAt = Math.max(1, claim.issuedAtSeconds());
      pinClaim(ex, policy, claim);
    }
  }

  /**
   * The first genuine pin among every cookie of this name (in every Cookie field), else what was wrong
   * with the first: a browser sends a sibling domain's or a longer path's cookie of the same name
   * first, and taking only that one would move the session on every request.
   */
  private static StickyCookie.Claim firstGenuine(Exchange ex, ProxyContext context, StickyPolicy policy,
      HttpHeaders headers, String name) {
    StickyCookie.Claim first = null;
    int checked = 0;
    for (String field : headers.getAll(HttpHeaderNames.COOKIE)) {
      long range = RequestCookies.find(field, name);
      // A few at most: each costs a signature check, and a client could send hundreds.
      while (range >= 0 && checked++ < MAX_PINS_CHECKED) {
        StickyCookie.Claim claim = read(ex, context, policy, field, RequestCookies.start(range), RequestCookies.end(range));
        if (claim.isValid()) {
          return claim;
        }
        if (first == null) {
          first = claim;
        }
        range = RequestCookies.find(field, name, RequestCookies.end(range));
      }
    }
    return first;
  }

  private static StickyCookie.Claim read(Exchange ex, ProxyContext context, StickyPolicy policy, String header,
      int start, int end) {
    return context.stickyKeys.codec()
        .read(header, start, end, ex.group.sticky().groupHash(), context.epochSeconds(), policy.ttlSeconds());
  }

  /** Pins the selection to a genuine, current claim's backend, or moves the session if it left the group. */
  private static void pinClaim(Exchange ex, StickyPolicy policy, StickyCookie.Claim claim) {
    StickyTargets targets = ex.group.sticky();
    Backend pinned = targets.backend(claim.backendHash());
    SelectionContext selection = ex.selection;
    if (pinned == null) {
      // The backend left the group: its sessions move, starting in its region if the group has one.
      selection.failoverFrom(targets.region(claim.regionHash()));
      selection.pinOutcome(StickyPin.Outcome.REPINNED, StickyPin.Reason.GONE);
      ex.stickyNote = "pinned backend gone";
      return;
    }
    selection.pin(pinned, policy.strict());
    ex.stickyIssuedAt = claim.issuedAtSeconds();
  }

  /**
   * The first {@code Cookie} field that holds a cookie of this name, or null. HTTP/1.1 clients may
   * (against RFC 6265) send several Cookie fields.
   */
  private static String cookieField(HttpHeaders headers, String name) {
    String header = headers.get(HttpHeaderNames.COOKIE);
    if (header == null || RequestCookies.find(header, name) >= 0) {
      return header;
    }
    for (String other : headers.getAll(HttpHeaderNames.COOKIE)) {
      if (RequestCookies.find(other, name) >= 0) {
        return other;
      }
    }
    return null;
  }

  /** App-cookie mode: the session's backend is where its cookie hashes, among usable backends. */
  private static void pinAppSession(Exchange ex, StickyTargets targets, String header, int start, int end,
      boolean strict) {
    BackendSelector hashing = targets.appCookieSelector();
    if (hashing == null || end <= start) {
      return;
    }
    SelectionContext selection = ex.selection;
    selection.hashKey(HashKeys.hash(header, start, end));
    Backend backend = hashing.select(selection);
    if (backend != null) {
      selection.pin(backend, strict);
    }
  }

  /**
   * A backend is answering: sets the cookie that pins the client to it when the request had no valid
   * pin or its pin moved, counts the outcome, and explains it in the decision header.
   *
   * @param tls whether the client's connection is TLS (the cookie's Secure attribute in auto mode)
   */
  static void onResponse(Exchange ex, ProxyContext context, HttpResponse response, boolean tls) {
    StickyPolicy policy = ex.route.sticky();
    SelectionContext selection = ex.selection;
    StickyMeters meters = context.metrics.sticky(ex.route.name());
    StickyPin.Outcome outcome = selection.pinOutcome();
    if (outcome == StickyPin.Outcome.REPINNED && ex.backend.equals(selection.pinned())) {
      // Moved, and the pick (in panic, health ignored) came back to the same backend: still pinned there.
      outcome = StickyPin.Outcome.HONOURED;
    }
    boolean cookieMode = policy.mode() == StickyPolicy.Mode.COOKIE;
    switch (outcome) {
      case HONOURED -> meters.honoured();
      case OVERRIDDEN -> meters.overridden(selection.pinReason());
      case REPINNED -> meters.repinned(selection.pinReason());
      default -> {
        if (cookieMode) {
          meters.created();
        }
      }
    }
    boolean pinMade = cookieMode && (outcome == StickyPin.Outcome.NONE || outcome == StickyPin.Outcome.REPINNED);
    boolean renamed = ex.stickyRenamedIssuedAt != 0;
    // A session in use keeps its backend: its pin is renewed once more than half its ttl has passed
    // (HAProxy's maxidle), so only a session idle for the whole ttl ends; one renewal per half ttl.
    boolean renewed = cookieMode && outcome == StickyPin.Outcome.HONOURED && ex.stickyIssuedAt > 0
        && context.epochSeconds() - ex.stickyIssuedAt > policy.ttlSeconds() / 2;
    boolean issue = pinMade || renamed || renewed;
    BackendStats stats = ex.group.stats().of(ex.backend);
    if (stats != null && (pinMade || outcome == StickyPin.Outcome.HONOURED)) {
      stats.stickyRequest(pinMade);
    }
    if (issue) {
      // A pin moved to the new name while this one request went elsewhere still names its own backend.
      Backend to = outcome == StickyPin.Outcome.OVERRIDDEN ? selection.pinned() : ex.backend;
      // A pin moved under the new name keeps the time it was made; a new or moved-elsewhere one is made now.
      long issuedAt = renamed && !pinMade && !renewed ? ex.stickyRenamedIssuedAt : context.epochSeconds();
      String value = context.stickyKeys.codec().issue(ex.group.sticky().groupName(), to.id(), to.region(), issuedAt);
      response.headers().add(HttpHeaderNames.SET_COOKIE, policy.setCookie(value, tls));
    }
    if (selection.wantsExplanation() && (cookieMode || outcome != StickyPin.Outcome.NONE)) {
      String why = selection.decision();
      selection.decision(explain(ex, outcome)
          + (why == null || outcome == StickyPin.Outcome.HONOURED ? "" : "; " + why));
    }
  }

  private static String explain(Exchange ex, StickyPin.Outcome outcome) {
    SelectionContext selection = ex.selection;
    Backend pinned = selection.pinned();
    String to = ex.backend.id();
    return switch (outcome) {
      case HONOURED -> "sticky " + to + (ex.stickyRenamedIssuedAt != 0 ? " (cookie renamed " + ex.route.sticky().formerCookie()
          + "->" + ex.route.sticky().cookie() + ")" : "");
      case OVERRIDDEN -> "sticky " + pinned.id() + " overridden: " + selection.pinReason().label();
      case REPINNED -> "sticky re-pinned " + (pinned == null ? "(gone)" : pinned.id()) + "->" + to + ": "
          + selection.pinReason().label();
      default -> "sticky new pin " + to + (ex.stickyNote == null ? "" : " (" + ex.stickyNote + ")");
    };
  }

  /** The pick found nothing because a strict pin could not be honoured: the 503's explanation, counted. */
  static String refusal(Exchange ex, ProxyContext context) {
    SelectionContext selection = ex.selection;
    context.metrics.sticky(ex.route.name()).refused(selection.pinReason());
    return "the session is pinned to backend " + selection.pinned().id() + " of group '" + ex.group.group().name()
        + "', which cannot take it now (" + selection.pinReason().label()
        + "); this route's sessions are strict and never move; try again later";
  }
}
