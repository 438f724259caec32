/**
 * The client side of the proxy: listeners, client pipelines, and the life of each request, one class
 * per phase. A request's path through this package:
 *
 * <pre>
 *  client socket
 *    |  ClientChannelInitializer: idle timeout, TLS + ALPN or cleartext protocol detection
 *    |  http1.ServerHttpCodec (HTTP/1.1, head read in place)  or  Http2Connection (Http2Streams:
 *    |  per stream an Http2ClientStream, no channel of its own, whose Http2StreamCodec makes the same
 *    |  in-place request heads from HTTP/2 frames, and frames of the responses)
 *    v
 *  FrontendHandler ........ one per connection (or HTTP/2 stream): sequences exchanges in order,
 *    |                      owns the connection's state and back-pressure; Exchange = one request;
 *    |                      ClientInbound queues what the client sent until its turn, reads on demand;
 *    |                      the phases write, flush, close and read on through ClientSide (an HTTP/1
 *    |                      connection or an HTTP/2 stream), never through a pipeline context
 *    |  1. RequestAdmission     validate (framing, Host, limits), route, residency, selection context
 *    |     EdgeCachePhase       a cached route: answered from the cache (or by a concurrent miss's
 *    |                          fill: CoalescedMiss), else what to store is noted (RequestCacheState);
 *    |                          BackgroundFill fetches a key apart (stale-while-revalidate, a range's
 *    |                          miss), OriginAnswers stores a 304's refresh or such a whole answer
 *    |  2. UpstreamAttempts     choose a backend, take a pooled connection, send the rewritten head;
 *    |                          connect failures, resets and retries; drill faults;
 *    |     BackendSlotWait      a group's per-backend limit: a full backend's request waits its turn
 *    |     Hedging              a route's hedges: no response headers within the delay, the request
 *    |                          goes to another backend too (HedgedAttempt); the first answer wins
 *    |  3. RequestBodyRelay     the body, part by part, kept for replay while retryable
 *    |       ~~~ backend ~~~    (upstream.BackendHandler reports back through UpstreamListener)
 *    |  4. ResponseRelay        the response head checked, retried or rewritten; the body streamed;
 *    |                          1xx, 101 (TunnelHandler);
 *    |     ResponseHeadersTimer the response-headers timeout and the request's deadline (an HTTP/2
 *    |                          connection's streams share one timer: StreamResponseDeadlines)
 *    |  5. ExchangeCompletion   local answers (4xx/5xx), upstream pooled or closed, next request
 *    |  RequestHeadTimer        (beside them) the slowloris guard: heads that never complete, bodies
 *    |                          slower than limits.min-request-body-rate
 *    |  ClientStalls            idle keep-alive connections closed, stalled bodies 408, responses the
 *    |                          client stopped reading cut off (each frees the upstream it held)
 *    v
 *  client socket
 * </pre>
 *
 * <p>Everything for one connection runs on its event loop, which also owns its upstream connections;
 * ProxyServer runs the lifecycle (start, reload, drain: ClientDrain lets the client connections
 * finish), ClientListeners the listeners (each a BoundListener: bound, retuned or drained by a
 * reload), RoutingAssembler builds the routes and groups from the settings (at start and on each
 * reload), RequestPolicies the limits, timeouts and header rewriters, and ProxyContext hands them
 * over: a request reads routes, groups and policies once, as one snapshot, when its head arrives.
 */
package dev.meridian.proxy.server;
