package dev.meridian.proxy.server;

import dev.meridian.proxy.cache.CachedResponse;
import dev.meridian.proxy.cache.EdgeCache;
import dev.meridian.proxy.cache.Freshness;
import dev.meridian.proxy.cache.OriginHeaders;
import dev.meridian.proxy.metrics.CacheMeters;
import dev.meridian.proxy.routing.CachePolicy;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stores what an origin answered apart from a miss's streamed fill ({@link EdgeCachePhase}): a 304
 * that refreshes a stale entry (its headers merged in, RFC 9111 section 4.3.4, and its freshness judged
 * again), and a background fetch's whole answer ({@link BackgroundFill}). Stateless; the cache and its
 * meters come from the {@link ProxyContext}.
 */
final class OriginAnswers {
  private OriginAnswers() {}

  /** A background refresh's 304: the entry refreshed and stored again; returns it, or null when it may not be. */
  static CachedResponse refreshFrom304(ProxyContext context, EdgeCachePhase.Target target, CachedResponse old, HttpHeaders notModified) {
    return keep(context, target.route(), target.key(), old,
        merge304(context, target.policy(), old, notModified, target.authenticated()));
  }

  /** An entry refreshed by a 304, and why it may not be stored again (null when it may). */
  record Refreshed(CachedResponse entry, String notStored) {}

  /** Stores a refreshed entry, or removes the old one when its new headers forbid storing; returns what was stored. */
  static CachedResponse keep(ProxyContext context, String route, String key, CachedResponse old, Refreshed refreshed) {
    CacheMeters meters = context.metrics.cache(route);
    meters.revalidated();
    if (refreshed.notStored() == null) {
      context.cache.store(key, refreshed.entry());
      return refreshed.entry();
    }
    meters.notStored(refreshed.notStored());
    context.cache.remove(key, old);
    return null;
  }

  /** The entry with a 304's headers merged in (RFC 9111 section 4.3.4) and its freshness judged again. */
  static Refreshed merge304(ProxyContext context, CachePolicy policy, CachedResponse old, HttpHeaders notModified, boolean authenticated) {
    List<Map.Entry<String, String>> fresh = OriginHeaders.storedHeaders(notModified);
    Set<String> updated = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    fresh.forEach(h -> updated.add(h.getKey()));
    List<Map.Entry<String, String>> merged = new ArrayList<>();
    for (Map.Entry<String, String> h : old.headers()) {
      if (!updated.contains(h.getKey())) {
        merged.add(h);
      }
    }
    merged.addAll(fresh);
    HttpHeaders mergedHeaders = new io.netty.handler.codec.http.DefaultHttpHeaders();
    merged.forEach(h -> mergedHeaders.add(h.getKey(), h.getValue()));
    Freshness.Verdict verdict = Freshness.judge(policy, old.status(), mergedHeaders, authenticated,
        context.epochSeconds() * 1000);
    CachedResponse entry = new CachedResponse(old.url(), old.status(), old.reason(), List.copyOf(merged), old.body(),
        context.cache.nanoTime(), verdict.initialAgeSeconds(), verdict.lifetimeSeconds(), verdict.originStaleIfErrorSeconds(),
        verdict.originStaleWhileRevalidateSeconds(), verdict.mayServeStale(), old.varyNames(), old.varyValues(), mergedHeaders.get(HttpHeaderNames.ETAG),
        mergedHeaders.get(HttpHeaderNames.LAST_MODIFIED), old.tags());
    return new Refreshed(entry, verdict.notStored());
  }

  /**
   * A background refresh's whole answer (not a 304): stored when it may be, like a miss's; returns
   * what was stored, or null.
   */
  static CachedResponse storeWhole(ProxyContext context, EdgeCachePhase.Target target, HttpResponse response, java.nio.ByteBuffer body) {
    CacheMeters meters = context.metrics.cache(target.route());
    HttpHeaders headers = response.headers();
    Set<String> tags = OriginHeaders.takeTags(headers);
    Freshness.Verdict verdict = Freshness.judge(target.policy(), response.status().code(), headers,
        target.authenticated(), context.epochSeconds() * 1000);
    if (!verdict.storable()) {
      meters.notStored(verdict.notStored());
      return null;
    }
    List<String> varyNames = OriginHeaders.varyNames(headers);
    if (CacheableRequests.spellsWithUnderscore(target.requestHeaders(), varyNames)) {
      meters.notStored("ambiguous-header");
      return null;
    }
    List<String> varyValues = EdgeCache.varyValues(varyNames, target.requestHeaders());
    if (!EdgeCache.storableVaryValues(varyValues)) {
      meters.notStored("vary-too-long");
      return null;
    }
    CachedResponse entry = new CachedResponse(target.url(), response.status().code(),
        response.status().reasonPhrase(), OriginHeaders.storedHeaders(headers), body, context.cache.nanoTime(),
        verdict.initialAgeSeconds(), verdict.lifetimeSeconds(), verdict.originStaleIfErrorSeconds(),
        verdict.originStaleWhileRevalidateSeconds(), verdict.mayServeStale(), varyNames,
        varyValues, headers.get(HttpHeaderNames.ETAG),
        headers.get(HttpHeaderNames.LAST_MODIFIED), tags);
    context.cache.store(target.key(), entry);
    meters.stored();
    return entry;
  }

  /** The background fetch of a target's key found its answer larger than the cache's largest object. */
  static void tooLarge(ProxyContext context, EdgeCachePhase.Target target) {
    context.metrics.cache(target.route()).notStored("too-large");
    context.cache.misses().notStored(target.key(), context.cache.nanoTime());
  }
}
