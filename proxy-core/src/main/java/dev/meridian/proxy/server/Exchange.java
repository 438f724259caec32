package dev.meridian.proxy.server;

import dev.meridian.balancer.Backend;
import dev.meridian.balancer.BackendStats;
import dev.meridian.balancer.SelectionContext;
import dev.meridian.proxy.regions.RegionCounters;
import dev.meridian.proxy.routing.Route;
import dev.meridian.proxy.upstream.BackendSlots;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of one request on its way through the proxy, from its head arriving to its response's
 * last byte being written. Owned by one {@link FrontendHandler} and touched only on its event loop.
 */
final class Exchange {
  final HttpRequest request;
  final HttpVersion clientVersion;
  final String method;
  final long startNanos = System.nanoTime();
  /** The connection's selection context, reset for this request (see {@link FrontendHandler}). */
  final SelectionContext selection;
  /** The limits, timeouts and header rewriters in force when the request's head arrived. */
  final RequestPolicies policies;

  CharSequence requestId;
  /** The {@code traceparent} sent on (this hop's span; set at admission, before its checks), or null when tracing is off. */
  CharSequence traceparent;
  /** The request's Host (or absolute-form authority) and path, once admission read them; else null. */
  String host;
  String path;
  InetAddress clientAddress;
  /** The request arrived on an HTTP/2 stream (translated to HTTP/1.1 messages). */
  boolean http2;
  Route route;
  GroupRuntime group;
  /** The residency class the request named, or null. */
  String residencyClass;
  /** The edge cache's part in the request, or null when the cache had none (see {@link #cacheState}). */
  RequestCacheState cache;
  /** The dashboard's recent decisions keep this request (its selector explains its pick). */
  boolean decisionSampled;
  /** Why a sticky route's cookie was not used (ignored, or its backend gone), for the decision header. */
  String stickyNote;
  /**
   * When the sticky pin that came under the group's former cookie name was made (epoch seconds), or
   * 0: the answer moves it to the new name, keeping that time (moving a pin does not extend it).
   */
  long stickyRenamedIssuedAt;
  /** When the pin the request's cookie carried was made (epoch seconds), or 0: a pin past half its ttl is renewed. */
  long stickyIssuedAt;
  /** Stats of the backend the request is in flight to, until it finishes. */
  BackendStats inFlightTo;
  long sentNanos;
  /** From the request sent to the backend's response headers, or -1 while no backend answered. */
  long upstreamNanos = -1;
  /** The status of the last final response a backend sent (0 while none did), for the access log. */
  int upstreamStatus;
  String upgrade;
  boolean clientKeepAlive;
  /** The request carries no body (no Content-Length above 0, not chunked). */
  boolean bodiless;

  Backend backend;
  Channel upstream;
  /** Backends picked for this request so far, including those that could not be connected to. */
  int attempts;
  /** The counters of the region of the last backend picked, or null before a pick. */
  RegionCounters regionCounters;
  /** A drill's delay held this attempt before it was forwarded; it counts in the latency EWMA. */
  long injectedDelayNanos;
  /** The slot of its backend this attempt holds (groups with {@code limits.max-connections}), or null. */
  BackendSlots.Slot slot;
  /** The request's place in the queue for a full backend's slot while it waits, else null. */
  BackendSlots.Ticket slotTicket;
  /** The answer is a drill's injected abort: counted as the region's own 5xx, not Meridian's. */
  boolean injectedAbort;
  /** Interim (1xx) responses the backend sent for this request so far. */
  int interimResponses;
  /** The last attempt found its backend busy (no free HTTP/2 stream): a final answer is 503, not 502. */
  boolean lastAttemptBusy;
  /** Picks whose connect failed (nothing reached that backend); they spend no retry attempt. */
  int connectFailures;
  /** Why the last attempt failed, for the 502 body. */
  String lastFailure;
  boolean headersRewritten;
  long bodyBytesForwarded;
  /** The request head reached the socket of the current attempt (its write succeeded). */
  boolean headWritten;
  /** The request was already sent again once after a pooled connection turned out closed. */
  boolean staleRetried;
  /** Times the request was sent again because a backend said it had not processed it. */
  int unprocessedResends;
  /** The next attempt must open a new connection rather than take a pooled one. */
  boolean freshConnection;
  /** Body parts kept for a retry (null until one is), while the body fits the route's max-replay-body. */
  List<HttpContent> replay;
  /** The kept body ended with the shared empty last part (kept as this flag rather than in the list). */
  boolean replayEndsEmpty;
  /** The body outgrew max-replay-body: nothing is kept any more. */
  boolean replayAbandoned;
  long replayBytes;
  /**
   * A gRPC call's body bytes when its progress was last seen, and when (System.nanoTime; 0: not yet);
   * for other requests, when their body could first flow (head sent, or the 100 relayed).
   */
  long bodyProgressBytes;
  long bodyProgressNanos;
  /** The request's Content-Length, or -1 when it has none. */
  long declaredLength = -1;
  /**
   * HTTP/2: the body part that completes the declared length, kept back until the client's
   * END_STREAM shows the length was true (a backend must never see a complete request the client
   * did not send); null when none is held.
   */
  HttpContent heldBack;
  /** Trailers went upstream with the body's end. */
  boolean trailersForwarded;
  /** The request's end went upstream (or, answered locally, arrived and was dropped). */
  boolean requestComplete;

  /** Where the response stands. */
  ResponsePhase response = ResponsePhase.AWAITED;
  /** The backend's response allows reusing the upstream connection. */
  boolean backendKeepAlive;
  /** The client connection closes after this response. */
  boolean closeAfter;
  long responseBytes;
  int status;
  /** The request fields access-log.request-headers names, as the client sent them, or null when none are named. */
  String[] loggedRequestFields;
  /** The fields of the final response head sent to the client (for the access log), or null before one. */
  HttpHeaders sentHeaders;
  /** When the backend's response headers are due (System.nanoTime), or 0 when nothing is awaited. */
  long responseDeadlineNanos;
  /** When the route's response-deadline passes for this request, every try together (System.nanoTime), or 0. */
  long deadlineNanos;
  /**
   * The client sent {@code Expect: 100-continue}: it holds its body until the backend's 100 (or
   * final answer), so the backend's answer is awaited from the head on, not from the body's end.
   */
  boolean expectsContinue;
  /**
   * Why Meridian answered the request itself (the local answer's message) or cut its response off (the
   * backend's failure), or null: for the access log.
   */
  String localReason;
  /** Why the next try sends the request again without spending an attempt, for the decision; or null. */
  String resentBecause;
  /** When the client sent the end of the request's body (System.nanoTime), or 0: noted for a route with a deadline. */
  long bodyEndedNanos;
  /** The request's hedges on a route that hedges (the next one's timer, those sent), or null. */
  Hedging.Race race;

  Exchange(HttpRequest request, SelectionContext selection, RequestPolicies policies) {
    this.request = request;
    this.selection = selection;
    this.policies = policies;
    this.clientVersion = request.protocolVersion();
    this.method = request.method().name();
  }

  /** The edge cache's part in the request, made on first use. */
  RequestCacheState cacheState() {
    if (cache == null) {
      cache = new RequestCacheState();
    }
    return cache;
  }

  /** Whether the edge cache answered the request (no backend, no region counted). */
  boolean fromCache() {
    return cache != null && cache.answered;
  }

  /** What the cache did with the request (X-Cache), or null when it had no part in it. */
  String cacheStatus() {
    return cache == null ? null : cache.status;
  }

  /**
   * Whether the request may be sent again to another backend: no response byte reached the client,
   * and every body part forwarded so far was kept.
   */
  boolean isReplayable() {
    return !responseStarted() && (!replayAbandoned || (bodyBytesForwarded == 0 && !trailersForwarded));
  }

  /** Where the response to a request stands, in the order an exchange goes through them. */
  enum ResponsePhase {
    /** Nothing went to the client yet: the backend has not answered (or its answer is being retried). */
    AWAITED,
    /** An HTTP/1.1 backend's interim (1xx) response went on; its empty end is still to come. */
    INTERIM,
    /** The final response head went to the client; its body is streaming. */
    STREAMING,
    /** The backend's response went to the client whole (or a 101 handed both connections over). */
    RELAYED,
    /** Meridian answered the request itself (no backend involved). */
    LOCAL
  }

  /** The final response head went to the client (from a backend or made here). */
  boolean responseStarted() {
    return response.compareTo(ResponsePhase.STREAMING) >= 0;
  }

  /**
   * Whether the client may have had bytes of this request's answer: its final response began, or an
   * interim (1xx) one came. From then on the request is not sent again anywhere (no retry, no resend,
   * no hedge taking over): the backend began answering, and the client would see a second try's 1xx too.
   */
  boolean answerBegun() {
    return interimResponses > 0 || responseStarted();
  }

  /** The whole response went to the client. */
  boolean responseComplete() {
    return response == ResponsePhase.RELAYED || response == ResponsePhase.LOCAL;
  }

  /** The response is one Meridian wrote itself. */
  boolean isLocal() {
    return response == ResponsePhase.LOCAL;
  }

  /** Keeps a forwarded body part for a retry, or gives up keeping when the body outgrows the limit. */
  void keepForReplay(HttpContent part, int maxReplayBody) {
    if (replayAbandoned) {
      return;
    }
    replayBytes += part.content().readableBytes();
    if (replayBytes > maxReplayBody) {
      releaseReplay();
      replayAbandoned = true;
      return;
    }
    if (part == LastHttpContent.EMPTY_LAST_CONTENT) {
      replayEndsEmpty = true;
      return;
    }
    if (replay == null) {
      replay = new ArrayList<>(2);
    }
    replay.add(part.retainedDuplicate());
  }

  /** Releases the kept body parts and any part held back. */
  void releaseReplay() {
    if (heldBack != null) {
      heldBack.release();
      heldBack = null;
    }
    if (replay != null) {
      replay.forEach(ReferenceCountUtil::release);
      replay.clear();
    }
    replayEndsEmpty = false;
  }

  /**
   * Whether the request writes (any method but GET, HEAD, OPTIONS and TRACE): it goes to the writer
   * region, starts a read-your-writes window and may use a backend whose replicas lag.
   */
  boolean isWrite() {
    switch (method) {
      case "GET":
      case "HEAD":
      case "OPTIONS":
      case "TRACE":
        return false;
      default:
        return true;
    }
  }

  /** Whether the method is idempotent (RFC 9110 section 9.2.2). */
  boolean isIdempotent() {
    switch (method) {
      case "GET":
      case "HEAD":
      case "OPTIONS":
      case "TRACE":
      case "PUT":
      case "DELETE":
        return true;
      default:
        return false;
    }
  }

  /**
   * Tells the backend's stats the attempt finished, gives its backend slot back (or leaves the queue
   * for one); once.
   */
  void endInFlight() {
    if (inFlightTo != null) {
      inFlightTo.requestFinished();
      inFlightTo = null;
    }
    if (slotTicket != null) {
      slotTicket.cancel(); // false when a slot was just granted: the grant then finds the exchange over
      slotTicket = null;
    }
    if (slot != null) {
      slot.release();
      slot = null;
    }
  }

  /**
   * Whether the request waits before any upstream: held by a drill's delay, or queued for a full
   * backend. The client is not slow then, Meridian is holding it.
   */
  boolean waitsForBackend() {
    return upstream == null && (injectedDelayNanos > 0 || slotTicket != null);
  }

  /**
   * For the access log of a request refused before admission read its target: its path and Host as
   * sent (a refused head's stand-in carries the target its request line began with, and no Host).
   */
  void noteTargetAsSent() {
    if (path == null) {
      String uri = request.uri();
      int query = uri.indexOf('?');
      path = query < 0 ? uri : uri.substring(0, query);
    }
    if (host == null) {
      host = request.headers().get(io.netty.handler.codec.http.HttpHeaderNames.HOST);
    }
  }

  /** Stops waiting for response headers (the connection's timer finds no deadline and stops). */
  void cancelResponseTimer() {
    responseDeadlineNanos = 0;
  }
}
