package dev.meridian.proxy.server;

import dev.meridian.proxy.cache.ByteRanges;
import dev.meridian.proxy.cache.CacheControl;
import dev.meridian.proxy.cache.CacheFill;
import dev.meridian.proxy.cache.CachedAnswers;
import dev.meridian.proxy.cache.CacheKeys;
import dev.meridian.proxy.cache.CachedResponse;
import dev.meridian.proxy.cache.EdgeCache;
import dev.meridian.proxy.cache.Freshness;
import dev.meridian.proxy.cache.MissCoalescer;
import dev.meridian.proxy.cache.OriginHeaders;
import dev.meridian.proxy.http.ForwardingHeaders;
import dev.meridian.proxy.http.RequestHeadRewriter;
import dev.meridian.proxy.metrics.CacheMeters;
import dev.meridian.proxy.routing.CachePolicy;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The cache phase of a request on a route with {@code cache}: between admission and choosing a
 * backend, a fresh entry answers (a 304 when the client's validators match, headers only for HEAD);
 * otherwise the origin answers and its answer is stored as it streams through when it may be
 * ({@link Freshness}), its body copied into the entry without holding the client's buffers. A stale
 * entry answers instead when the origin fails within the route's {@code stale-if-error}. Every
 * answer of a cached route says what the cache did in {@code X-Cache}: HIT, MISS, EXPIRED, STALE or
 * BYPASS. {@code Cache-Tag} and {@code Surrogate-Key} are kept as purge tags and not passed on.
 */
final class EdgeCachePhase {
  private final FrontendHandler connection;
  private final ProxyContext context;
  private final EdgeCache cache;

  /**
   * What storing an answer for a request needs, copied out of its exchange (a background refresh
   * outlives it): the route's policy and name, the key, the URL, the request's headers, whether it
   * carried credentials.
   */
  record Target(CachePolicy policy, String route, String key, String url, HttpHeaders requestHeaders,
      boolean authenticated) {
    static Target of(Exchange ex) {
      return new Target(ex.route.cache(), ex.route.name(), ex.cache.key, ex.cache.url,
          new io.netty.handler.codec.http.DefaultHttpHeaders().add(ex.request.headers()), ex.cache.authenticated);
    }
  }

  /** What the proxy's cache, meters and clock are reached through. */
  ProxyContext context() {
    return context;
  }

  EdgeCachePhase(FrontendHandler connection) {
    this.connection = connection;
    this.context = connection.context;
    this.cache = context.cache;
  }

  /**
   * Answers the request from the cache when a fresh entry matches; makes it wait when another request
   * for the same key is already asking the origin; otherwise notes what the cache does with the
   * origin's answer (and, for a GET, leads the fill others may wait for).
   *
   * @return whether the request was answered or waits (else it goes to the origin now)
   */
  boolean answer(Exchange ex) {
    ex.cacheState();
    CachePolicy policy = ex.route.cache();
    CacheMeters meters = context.metrics.cache(ex.route.name());
    boolean head = ex.method.equals("HEAD");
    HttpHeaders headers = ex.request.headers();
    String bypass = null;
    normalizeHost(headers);
    if (!head && !ex.method.equals("GET")) {
      bypass = "method";
    } else if (ex.upgrade != null) {
      bypass = "upgrade";
    } else if (CacheableRequests.carriesOverride(headers)) {
      bypass = "override-header";
    } else if (ex.http2 ? ex.declaredLength > 0 : !ex.bodiless) {
      // A GET with a body: the body is not in the key, yet Rack and others read its parameters. (An
      // HTTP/2 GET may end its stream with an empty DATA frame: without a content-length above 0 it
      // is judged by the bytes it sent, and then not stored.)
      bypass = "request-body";
    } else if (CacheableRequests.spellsWithUnderscore(headers, policy.keyHeaders())) {
      bypass = "ambiguous-header";
    } else if (headers.contains(HttpHeaderNames.IF_MATCH) || headers.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE)) {
      // The origin judges these preconditions (a 412 for a changed resource): no entry answers them.
      bypass = "precondition";
    } else {
      // Proxy-Authorization too (RFC 9111 names only Authorization, but a user's credentials for a
      // proxy on the way are as personal), and the _ spellings CGI, WSGI and Rack read as these.
      // A verified client certificate is a credential too: the backend gets it (Client-Cert) and may
      // answer by it.
      ex.cache.authenticated = CacheableRequests.carriesCredentials(headers,
          context.inForce().routing().routingCookies()) || connection.clientCertField() != null;
      if (ex.cache.authenticated && policy.authenticated() == CachePolicy.Authenticated.BYPASS) {
        bypass = "authenticated";
      }
    }
    if (bypass != null) {
      meters.bypass(bypass);
      ex.cache.status = "BYPASS";
      return false;
    }
    String scheme = keyScheme(headers);
    String host = headers.get(HttpHeaderNames.HOST); // normalized above: the origin gets what is keyed
    ex.cache.key = CacheKeys.key(policy, ex.route.name(), scheme, host == null ? "" : host, ex.request.uri(), headers);
    ex.cache.url = CacheKeys.url(scheme, host == null ? "" : host, ex.request.uri());
    long now = cache.nanoTime();
    CachedResponse entry = cache.lookup(ex.cache.key, headers);
    if (entry != null && entry.isFresh(now)) {
      meters.hit();
      serve(ex, entry, "HIT", now);
      return true;
    }
    if (entry != null && entry.mayServeWhileRevalidating(policy, now) && !headers.contains(HttpHeaderNames.RANGE)
        && BackgroundFill.start(connection, this, ex, entry)) {
      meters.stale();
      serve(ex, entry, "STALE", now);
      return true;
    }
    if (!head && ByteRanges.asksForAll(headers.get(HttpHeaderNames.RANGE)) && !headers.contains(HttpHeaderNames.IF_RANGE)) {
      // bytes=0- (a video or audio element's first request) is the whole representation: asked for
      // without the Range, the origin's answer can be stored, and the client gets its 206.
      headers.remove(HttpHeaderNames.RANGE);
      ex.cache.wholeAsRange = true;
    } else if (headers.contains(HttpHeaderNames.RANGE)) {
      if (awaitsWholeForRange(ex, headers, entry, now)) {
        return true;
      }
      // Other ranges are cut from fresh entries; a partial answer from the origin is never stored.
      meters.bypass("range");
      ex.cache.status = "BYPASS";
      ex.cache.key = null;
      return false;
    }
    if (CacheControl.requestHas(headers, "only-if-cached")) {
      // RFC 9111 section 5.2.1.7: the client wants a stored answer or none. The cache's own answer (with
      // X-Cache), not a failure of the group's: no region counts it.
      meters.miss();
      ex.cache.status = "MISS";
      ex.cache.answered = true;
      ex.localReason = "only-if-cached: no fresh answer in the cache";
      connection.completion.respondFromCache(ex, CachedAnswers.gatewayTimeout(ex.localReason));
      return true;
    }
    ex.cache.status = entry != null ? "EXPIRED" : "MISS";
    // A request that says no-store must not have its answer stored (RFC 9111 section 5.2.1.5): neither
    // a fill it leads (others would wait for it) nor a stale entry its 304 would refresh.
    boolean noStore = CacheControl.requestHas(headers, "no-store");
    if (!noStore && entry != null && (entry.etag() != null || entry.lastModified() != null)
        && !CacheableRequests.isConditional(headers)) {
      // Stale, with validators: ask the origin whether it changed (a 304 refreshes the entry).
      ex.cache.revalidate = entry;
      if (entry.etag() != null) {
        headers.set(HttpHeaderNames.IF_NONE_MATCH, entry.etag());
      } else {
        headers.set(HttpHeaderNames.IF_MODIFIED_SINCE, entry.lastModified());
      }
    }
    ex.cache.stale = entry != null && entry.mayServeOnError(policy, now) ? entry : null;
    ex.cache.fillWanted = !head && !noStore;
    if (!head && cache.misses().coalesces(ex.cache.key, now)) {
      // A no-store request may wait for another's answer (and be served the entry it stores), but
      // leads no fill of its own: a burst of them does not each reach the origin.
      MissCoalescer.Role role = noStore ? null : cache.misses().join(ex.cache.key, now);
      MissCoalescer.Fill awaited = noStore ? cache.misses().inFlight(ex.cache.key, now)
          : role.leads() ? null : role.fill();
      if (role != null && role.leads()) {
        ex.cache.lead = role.fill();
      } else if (awaited != null) {
        CoalescedMiss waiter = new CoalescedMiss(connection, this, ex, awaited, "HIT");
        if (awaited.await(waiter)) {
          waiter.startTimer();
          meters.coalesced();
          return true;
        }
      }
    }
    if (noStore) {
      meters.notStored("request-no-store");
    }
    countMiss(ex, meters);
    return false;
  }

  /**
   * A single byte range that no fresh entry answers: the whole answer is fetched in the background
   * ({@link BackgroundFill}) and the request waits for it, to be cut from the entry stored (Safari asks
   * for a video's bytes=0-1 first, and players seek by ranges: without this, media fetched only by
   * ranges is never cached). Not with If-Range (it names the origin's version), several ranges, a
   * request that says no-store or only-if-cached, HEAD, an HTTP/2 group, a key whose answer was not
   * stored lately (a file larger than the largest object, say), or one whose entry is never fresh
   * (no-cache, or kept only for a stale window): each seek would fetch the whole answer again.
   *
   * @param stale the stale entry found, if any (its validators go with the fetch)
   * @return whether the request waits or was answered (else its range goes to the origin)
   */
  private boolean awaitsWholeForRange(Exchange ex, HttpHeaders headers, CachedResponse stale, long now) {
    if (ex.method.equals("HEAD") || headers.contains(HttpHeaderNames.IF_RANGE)
        || (stale != null && stale.lifetimeSeconds() <= stale.initialAgeSeconds())
        || !ByteRanges.isSingle(headers.get(HttpHeaderNames.RANGE))
        || CacheControl.requestHas(headers, "no-store") || CacheControl.requestHas(headers, "only-if-cached")
        || !cache.misses().coalesces(ex.cache.key, now)) {
      return false;
    }
    ex.cache.status = stale != null ? "EXPIRED" : "MISS";
    if (!BackgroundFill.start(connection, this, ex, stale)) {
      return false;
    }
    MissCoalescer.Fill fill = cache.misses().inFlight(ex.cache.key, now);
    if (fill != null) {
      CoalescedMiss waiter = new CoalescedMiss(connection, this, ex, fill, ex.cache.status);
      if (fill.await(waiter)) {
        waiter.startTimer();
        return true;
      }
    }
    // The fetch ended already (no backend to ask, or it was quick): its entry answers, if it stored one.
    CachedResponse filled = cache.lookup(ex.cache.key, headers);
    if (filled != null && filled.isFresh(now)) {
      countMiss(ex, context.metrics.cache(ex.route.name()));
      serve(ex, filled, ex.cache.status, now);
      return true;
    }
    return false;
  }

  static void countMiss(Exchange ex, CacheMeters meters) {
    if (ex.cache.status.equals("EXPIRED")) {
      meters.expired();
    } else {
      meters.miss();
    }
  }

  /** Ends the fill the exchange leads, if any: waiters get the entry, or go to the origin (null). */
  static void finishLead(Exchange ex, CachedResponse stored) {
    MissCoalescer.Fill lead = ex.cache == null ? null : ex.cache.lead;
    if (lead != null) {
      ex.cache.lead = null;
      lead.finish(stored);
    }
  }

  /**
   * The origin's response head arrived (before it is rewritten for the client): a failure answered by
   * a stale entry instead, or the start of storing it; X-Cache is added and purge tags taken out.
   *
   * @return whether the exchange was answered from a stale entry (the response was released)
   */
  boolean onResponseHead(Exchange ex, HttpResponse response) {
    ex.cacheState();
    int status = response.status().code();

    if (status >= 500 && answerStale(ex)) {
      ReferenceCountUtil.release(response);
      return true;
    }
    if (status >= 500) {
      finishLead(ex, null); // waiters ask the origin themselves (and may find it back)
    }
    if (status == 304 && ex.cache.revalidate != null) {
      revalidated(ex, response);
      return true;
    }
    HttpHeaders headers = response.headers();
    Set<String> tags = OriginHeaders.takeTags(headers);
    if (ex.cache.fillWanted && ex.cache.key != null) {
      startFill(ex, response, tags);
    }
    if (ex.cache.fill == null) {
      finishLead(ex, null);
    }
    if (ex.cache.wholeAsRange) {
      ByteRanges.asWholeRange(response); // after the fill took the origin's 200 to store
    }
    if (ex.cache.status != null) {
      headers.set(CachedAnswers.X_CACHE, ex.cache.status);
    }
    return false;
  }

  private void startFill(Exchange ex, HttpResponse response, Set<String> tags) {
    CachePolicy policy = ex.route.cache();
    CacheMeters meters = context.metrics.cache(ex.route.name());
    HttpHeaders headers = response.headers();
    int status = response.status().code();
    Freshness.Verdict verdict = Freshness.judge(policy, status, headers, ex.cache.authenticated,
        context.epochSeconds() * 1000);
    long length = HttpUtil.getContentLength(response, -1L);
    String why = verdict.notStored();
    if (why == null && length > cache.maxObjectSize()) {
      why = "too-large";
    }
    if (why != null) {
      meters.notStored(why);
      if (!why.equals("status") && !why.equals("authenticated")) {
        // The answer itself said so (not a passing error, nor this request's credentials).
        cache.misses().notStored(ex.cache.key, cache.nanoTime());
      }
      return;
    }
    if (ex.bodyBytesForwarded > 0) {
      meters.notStored("request-body"); // an HTTP/2 GET that did send a body: the body is not keyed
      return;
    }
    List<String> varyNames = OriginHeaders.varyNames(headers);
    if (CacheableRequests.spellsWithUnderscore(ex.request.headers(), varyNames)) {
      meters.notStored("ambiguous-header"); // this request's doing, not the answer's: others may store it
      return;
    }
    List<String> varyValues = EdgeCache.varyValues(varyNames, ex.request.headers());
    if (!EdgeCache.storableVaryValues(varyValues)) {
      meters.notStored("vary-too-long"); // this request's doing too: its Vary values are no browser's
      return;
    }
    CachedResponse head = new CachedResponse(ex.cache.url, status, response.status().reasonPhrase(),
        OriginHeaders.storedHeaders(headers), java.nio.ByteBuffer.allocate(0), 0, verdict.initialAgeSeconds(), verdict.lifetimeSeconds(),
        verdict.originStaleIfErrorSeconds(), verdict.originStaleWhileRevalidateSeconds(), verdict.mayServeStale(),
        varyNames, varyValues,
        headers.get(HttpHeaderNames.ETAG), headers.get(HttpHeaderNames.LAST_MODIFIED), tags);
    ex.cache.fill = new CacheFill(ex.cache.key, head, length, cache.maxObjectSize());
  }

  /**
   * The origin said the stale entry is still good (304): the entry takes the 304's freshness and
   * validators (RFC 9111 section 4.3.4), is stored again, and answers (REVALIDATED). The upstream
   * connection is closed rather than reused, since the 304's end may still be on its way.
   */
  private void revalidated(Exchange ex, HttpResponse notModified) {
    CachedResponse old = ex.cache.revalidate;
    ex.cache.revalidate = null;
    OriginAnswers.Refreshed refreshed = OriginAnswers.merge304(context, ex.route.cache(), old, notModified.headers(),
        ex.cache.authenticated);
    ReferenceCountUtil.release(notModified);
    connection.completion.abandonUpstream(ex);
    finishLead(ex, OriginAnswers.keep(context, ex.route.name(), ex.cache.key, old, refreshed));
    ex.cache.stale = null;
    serve(ex, refreshed.entry(), "REVALIDATED", cache.nanoTime());
  }

  /** A part of the origin's body, on its way to the client: copied into the entry being filled. */
  void onBody(Exchange ex, HttpContent content) {
    CacheFill fill = ex.cache == null ? null : ex.cache.fill;
    if (fill == null) {
      return;
    }
    CacheMeters meters = context.metrics.cache(ex.route.name());
    if (!fill.append(content.content())) {
      ex.cache.fill = null;
      meters.notStored("too-large");
      cache.misses().notStored(fill.key(), cache.nanoTime());
      finishLead(ex, null);
      return;
    }
    if (content instanceof LastHttpContent last) {
      ex.cache.fill = null;
      if (!last.trailingHeaders().isEmpty()) {
        meters.notStored("trailers");
        finishLead(ex, null);
        return;
      }
      CachedResponse entry = fill.complete(cache.nanoTime());
      cache.store(fill.key(), entry);
      meters.stored();
      finishLead(ex, entry);
    }
  }

  /**
   * The origin failed (a 5xx, a timeout, no backend reachable): answers from the stale entry the
   * request found, when the route's stale-if-error still covers it.
   *
   * @return whether the exchange was answered
   */
  boolean answerStale(Exchange ex) {
    CachedResponse stale = ex.cache == null ? null : ex.cache.stale;
    long now = cache.nanoTime();
    if (stale == null || ex.responseStarted() || !stale.mayServeOnError(ex.route.cache(), now)) {
      return false;
    }
    ex.cache.stale = null;
    ex.cache.fill = null;
    finishLead(ex, null);
    connection.completion.abandonUpstream(ex);
    context.metrics.cache(ex.route.name()).stale();
    serve(ex, stale, "STALE", now);
    return true;
  }

  /**
   * The scheme in a request's key and URL: the one a trusted proxy's client used (its
   * X-Forwarded-Proto, which reaches the origin; an untrusted peer's was dropped at admission), else
   * the one the request came to Meridian by. Behind a TLS-terminating load balancer the origin
   * answers http and https apart (a redirect to https for http), and one key for both would loop
   * https clients through that stored redirect.
   */
  private String keyScheme(HttpHeaders headers) {
    String forwarded = headers.get(ForwardingHeaders.X_FORWARDED_PROTO);
    return RequestHeadRewriter.isHttpScheme(forwarded) ? forwarded.toLowerCase(java.util.Locale.ROOT) : connection.scheme;
  }

  static boolean isSafe(String method) {
    return method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS") || method.equals("TRACE");
  }

  /**
   * The Host of a request on a cached route as keys hold it, lower case, without a trailing dot or the
   * scheme's default port, and so forwarded: an origin that tells {@code a.test.} or {@code A.TEST}
   * from {@code a.test} would otherwise shape an answer stored under {@code a.test}'s key, and such
   * spellings cannot make keys of their own to bust the cache with either.
   */
  private void normalizeHost(HttpHeaders headers) {
    String sent = headers.get(HttpHeaderNames.HOST);
    if (sent != null) {
      String host = CacheKeys.host(sent, keyScheme(headers));
      if (!host.equals(sent)) {
        headers.set(HttpHeaderNames.HOST, host);
      }
    }
  }

  /**
   * Before an unsafe request (POST, PUT, DELETE, PATCH, ...) goes to its origin: the keys of the
   * entries its success removes (RFC 9111 section 4.4), those a GET of the same URL with the same key
   * headers would find on every cached route for its host and path, whichever route the request
   * itself takes (a write route beside a cached read route, say). Taken before the request is
   * rewritten for the origin. Variants that a route's key-headers keep apart under other values stay
   * until they expire or are purged.
   */
  void noteInvalidation(Exchange ex, java.util.List<dev.meridian.proxy.routing.Route> routes) {
    HttpHeaders headers = ex.request.headers();
    String scheme = keyScheme(headers);
    String host = CacheKeys.host(headers.get(HttpHeaderNames.HOST), scheme);
    String uri = ex.request.uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    for (dev.meridian.proxy.routing.Route route : routes) {
      if (route.cache() != null && route.matchesTarget(host, path)) {
        RequestCacheState state = ex.cacheState();
        if (state.invalidates == null) {
          state.invalidates = new ArrayList<>(2);
        }
        state.invalidates.add(new Invalidation(route.name(),
            CacheKeys.key(route.cache(), route.name(), scheme, host, uri, headers)));
      }
    }
  }

  /** The origin answered an unsafe request: a success (2xx, 3xx) removes the entries noted for it. */
  void invalidateIfSucceeded(Exchange ex, int status) {
    if (status >= 200 && status < 400) {
      for (Invalidation each : ex.cache.invalidates) {
        int gone = cache.invalidate(each.key());
        if (gone > 0) {
          context.metrics.cache(each.route()).invalidated(gone);
        }
      }
    }
  }

  /** A cached route's key that an unsafe request's success removes. */
  record Invalidation(String route, String key) {}

  /** Writes an entry as the answer (see {@link CachedAnswers}). */
  void serve(Exchange ex, CachedResponse entry, String result, long now) {
    RequestCacheState state = ex.cacheState();
    state.answered = true;
    state.status = result;
    if (state.wholeAsRange) {
      // Taken off for the origin (see answer): an entry answers the client's bytes=0- as a 206 too.
      ex.request.headers().set(HttpHeaderNames.RANGE, "bytes=0-");
    }
    connection.completion.respondFromCache(ex,
        CachedAnswers.of(entry, ex.request.headers(), ex.method.equals("HEAD"), result, now));
  }
}
