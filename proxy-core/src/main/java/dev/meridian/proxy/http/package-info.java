/**
 * HTTP message handling at the edges of the forwarding path (the wire format itself is in
 * {@code http1}): the request and response head rewriting (hop-by-hop removal, X-Forwarded-*, Forwarded, Via,
 * request ids) and the responses Meridian writes itself. Nothing here knows about routing or pools.
 */
package dev.meridian.proxy.http;
