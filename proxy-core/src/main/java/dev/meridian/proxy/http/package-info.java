/**
 * HTTP/1.1 message handling at the edges of the forwarding path: the strict client-facing codec,
 * the request and response head rewriting (hop-by-hop removal, X-Forwarded-*, Forwarded, Via,
 * request ids) and the responses Meridian writes itself. Nothing here knows about routing or pools.
 */
package dev.meridian.proxy.http;
